// Acme Renewals: the single-page app over /api. Vanilla JS, no build step, no CDN.
// Data is only ever put in the page with textContent (account names carry markup).
"use strict";

const state = { csrf: "", username: "", today: "", renderId: 0 };
const PLACES = { JPY: 0 };
const DEBOUNCE_MS = 250;

// ---------------------------------------------------------------- DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "testid") node.dataset.testid = value;
    else if (key === "text") node.textContent = value;
    else if (key === "value") node.value = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector, root = document) => root.querySelector(selector);
const link = (href, text, testid) => el("a", { href, "data-link": true, testid, text });

function field(label, input, name) {
  return el("label", { class: "field" }, el("span", { text: label }), input,
    el("span", { class: "field-error", testid: "field-error", "data-field": name }));
}

function detail(label, testid, value) {
  return [el("dt", { text: label }), el("dd", { testid, text: value ?? "" })];
}

// ---------------------------------------------------------------- money (exact, BigInt)

function places(currency) { return currency in PLACES ? PLACES[currency] : 2; }

function parseDecimal(text) {
  const match = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(text ?? "");
  if (!match) return null;
  const fraction = match[2] || "";
  return { units: BigInt(match[1] + fraction), scale: fraction.length };
}

function formatMinor(minor, digits) {
  const negative = minor < 0n;
  const text = (negative ? -minor : minor).toString().padStart(digits + 1, "0");
  const whole = digits ? text.slice(0, -digits) : text;
  return (negative ? "-" : "") + (digits ? `${whole}.${text.slice(-digits)}` : whole);
}

// ---------------------------------------------------------------- a line's share of a year

const DAY_MS = 86400000;

function parseDay(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec((text ?? "").trim());
  return match ? Date.UTC(+match[1], +match[2] - 1, +match[3]) : null;
}

function plusMonths(day, months) {  // a day past the month's end clamps to it
  const d = new Date(day);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months + 1, 0)).getUTCDate();
  return first + (Math.min(d.getUTCDate(), last) - 1) * DAY_MS;
}

// [numerator, denominator] of the share of a year in [start, end] by the portal's method
function yearShare(start, end, method) {
  const stop = end + DAY_MS;
  const a = new Date(start), b = new Date(stop);
  let months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  while (months > 0 && plusMonths(start, months) > stop) months -= 1;
  months = Math.max(months, 0);
  const days = Math.round((stop - plusMonths(start, months)) / DAY_MS);
  if (method === "day") return [BigInt(Math.round((end - start) / DAY_MS) + 1), 365n];
  if (method === "month") return [BigInt(months + (days > 0 ? 1 : 0)), 12n];
  return [BigInt(365 * months + 12 * days), 4380n];
}

// round_half_up(unit_price * quantity * share) in the currency's minor units
function lineAmountMinor(priceText, quantityText, share, currency) {
  const price = parseDecimal(priceText);
  const quantity = /^\s*\d+\s*$/.test(quantityText ?? "") ? BigInt(quantityText.trim()) : null;
  if (price === null || quantity === null || share === null) return null;
  const numerator = price.units * quantity * share[0] * 10n ** BigInt(places(currency));
  const denominator = 10n ** BigInt(price.scale) * share[1];
  return (2n * numerator + denominator) / (2n * denominator);
}

// ---------------------------------------------------------------- API, toasts, modal

class ApiError extends Error {
  constructor(status, body) {
    const message = status === 503 ? "The portal is busy (503). Please try again."
      : body.message || body.detail || `Request failed (${status})`;
    super(message);
    this.status = status;
    this.field = body.field || null;
  }
}

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRF-Token"] = state.csrf;
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = {};
  try { data = await response.json(); } catch (_) { data = {}; }
  if (response.status === 401) {
    const next = encodeURIComponent(location.pathname + location.search);
    const expired = data.error === "session_expired" ? "&expired=1" : "";
    location.assign(`/login?next=${next}${expired}`);
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

function toast(kind, text) {
  const node = el("div", { class: `toast toast-${kind}`, testid: "toast", "data-kind": kind,
    role: kind === "error" ? "alert" : "status" }, el("span", { text }),
    el("button", { type: "button", class: "link", "aria-label": "Dismiss", text: "×",
      onclick: () => node.remove() }));
  $("#toasts").append(node);
  setTimeout(() => node.remove(), kind === "error" ? 10000 : 6000);
}

function confirmModal(title, body, okLabel = "Confirm") {
  const backdrop = $("#modal");
  $("#modal-title").textContent = title;
  $("#modal-body").textContent = body;
  const ok = $("[data-testid=confirm-ok]", backdrop);
  const cancel = $("[data-testid=confirm-cancel]", backdrop);
  ok.textContent = okLabel;
  backdrop.hidden = false;
  ok.focus();
  return new Promise((resolve) => {
    const close = (answer) => {
      backdrop.hidden = true;
      ok.onclick = cancel.onclick = null;
      resolve(answer);
    };
    ok.onclick = () => close(true);
    cancel.onclick = () => close(false);
  });
}

function showProblem(error, root) {
  toast("error", error.message);
  if (!error.field || !root) return;
  const slot = root.querySelector(`[data-field="${CSS.escape(error.field)}"]`);
  if (slot) {
    slot.textContent = error.message;
    const input = slot.parentElement.querySelector("input, select");
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

function clearProblems(root) {
  root.querySelectorAll(".field-error").forEach((slot) => { slot.textContent = ""; });
  root.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

// ---------------------------------------------------------------- routing

function navigate(url, replace = false) {
  if (replace) history.replaceState({}, "", url);
  else history.pushState({}, "", url);
  render();
}

const routes = [
  [/^\/(?:opportunities\/?)?$/, (app, _m, q) => viewOpportunities(app, q)],
  [/^\/opportunities\/([^/]+)\/quote$/, (app, m, q) => viewEditor(app, m[1], q)],
  [/^\/opportunities\/([^/]+)$/, (app, m) => viewOpportunity(app, m[1])],
  [/^\/quotes\/?$/, (app, _m, q) => viewQuotes(app, q)],
  [/^\/quotes\/([^/]+)\/book$/, (app, m) => viewBooking(app, m[1])],
  [/^\/quotes\/([^/]+)$/, (app, m) => viewQuote(app, m[1])],
];

async function render() {
  const renderId = ++state.renderId;
  const app = el("div", { class: "view" });
  for (const [pattern, view] of routes) {
    const match = pattern.exec(location.pathname);
    if (!match) continue;
    const groups = match.map((part) => (part === undefined ? part : decodeURIComponent(part)));
    try {
      await view(app, groups, new URLSearchParams(location.search));
    } catch (error) {
      app.replaceChildren(el("p", { class: "error", testid: "page-error", text: error.message }));
      if (error.status !== 401) toast("error", error.message);
    }
    if (renderId === state.renderId) $("#app").replaceChildren(app);
    return;
  }
  app.append(el("p", { testid: "page-error", text: "Page not found." }));
  $("#app").replaceChildren(app);
}

// ---------------------------------------------------------------- views

const SORTS = [
  ["contract_end", "Contract end (soonest first)"], ["-contract_end", "Contract end (latest first)"],
  ["account_name", "Account (A–Z)"], ["-account_name", "Account (Z–A)"],
  ["opportunity_id", "Opportunity ID"],
];

async function viewOpportunities(app, query) {
  const params = new URLSearchParams();
  for (const key of ["end_from", "end_to", "sort", "page"]) {
    if (query.get(key)) params.set(key, query.get(key));
  }
  const data = await api("GET", `/api/opportunities?${params}`);
  const sort = query.get("sort") || "contract_end";
  const endFrom = el("input", { type: "date", name: "end_from", testid: "filter-end-from",
    value: query.get("end_from") || "" });
  const endTo = el("input", { type: "date", name: "end_to", testid: "filter-end-to",
    value: query.get("end_to") || "" });
  const sortSelect = el("select", { name: "sort", testid: "sort-select" },
    SORTS.map(([value, label]) => el("option", { value, text: label, selected: value === sort })));
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value); else next.delete(key);
    }
    navigate(`/opportunities?${next}`);
  };
  const filters = el("form", { class: "filters", testid: "opportunity-filters", onsubmit: (event) => {
    event.preventDefault();
    go({ end_from: endFrom.value, end_to: endTo.value, sort: sortSelect.value, page: "" });
  } }, field("Contract end from", endFrom, "end_from"), field("to", endTo, "end_to"),
  field("Sort by", sortSelect, "sort"),
  el("button", { type: "submit", class: "primary", testid: "filter-apply", text: "Apply" }),
  el("button", { type: "button", class: "secondary", testid: "filter-clear", text: "Clear",
    onclick: () => navigate("/opportunities") }));
  const csv = new URLSearchParams();
  if (query.get("end_from")) csv.set("end_from", query.get("end_from"));
  if (query.get("end_to")) csv.set("end_to", query.get("end_to"));
  const header = (key, label) => el("th", {}, el("button", { type: "button", class: "link",
    testid: `sort-by-${key}`, text: label,
    onclick: () => go({ sort: sort === key ? `-${key}` : key, page: "" }) }));
  const rows = data.items.map((o) => el("tr", { testid: "opportunity-row",
    "data-opportunity-id": o.opportunity_id },
  el("td", { testid: "opp-id" }, link(`/opportunities/${encodeURIComponent(o.opportunity_id)}`,
    o.opportunity_id, "opp-link")),
  el("td", { testid: "opp-account", text: o.account_name }),
  el("td", { testid: "opp-segment", text: o.segment }),
  el("td", { testid: "opp-currency", text: o.currency }),
  el("td", { testid: "opp-contract-end", text: o.contract_end || "" }),
  el("td", { testid: "opp-term", text: String(o.renewal_term_months) }),
  el("td", { testid: "opp-line-count", text: String(o.line_count) }),
  el("td", { testid: "opp-quote", text: o.quote_number || "" })));
  app.append(
    el("div", { class: "title-row" }, el("h1", { text: "Renewal opportunities" }),
      el("a", { href: `/opportunities.csv?${csv}`, download: "opportunities.csv",
        class: "button secondary", testid: "download-opportunities-csv", text: "Download CSV" })),
    filters,
    el("table", { class: "grid", testid: "opportunity-table" },
      el("thead", {}, el("tr", {}, header("opportunity_id", "Opportunity"),
        header("account_name", "Account"), el("th", { text: "Segment" }),
        el("th", { text: "Currency" }), header("contract_end", "Contract end"),
        el("th", { text: "Term (months)" }), el("th", { text: "Lines" }),
        el("th", { text: "Quote" }))),
      el("tbody", {}, rows)),
    rows.length ? null : el("p", { testid: "no-results", class: "muted",
      text: "No opportunities match." }),
    el("div", { class: "pager", testid: "pager" },
      el("button", { type: "button", testid: "page-prev", text: "‹ Previous",
        disabled: data.page <= 1, onclick: () => go({ page: String(data.page - 1) }) }),
      el("span", { testid: "page-info",
        text: `Page ${data.page} of ${data.pages} · ${data.total} opportunities` }),
      el("button", { type: "button", testid: "page-next", text: "Next ›",
        disabled: data.page >= data.pages, onclick: () => go({ page: String(data.page + 1) }) })),
  );
}

async function viewOpportunity(app, id) {
  const opp = await api("GET", `/api/opportunities/${encodeURIComponent(id)}`);
  app.append(
    el("div", { class: "title-row" }, el("h1", { testid: "opp-title", text: `Opportunity ${opp.opportunity_id}` }),
      link(`/opportunities/${encodeURIComponent(opp.opportunity_id)}/quote`, "New quote", "new-quote")),
    el("dl", { class: "details", testid: "opportunity-details" },
      detail("Account", "opp-account-name", opp.account_name),
      detail("Account ID", "opp-account-id", opp.account_id),
      detail("Segment", "opp-segment", opp.segment),
      detail("Currency", "opp-currency", opp.currency),
      detail("Contract end", "opp-contract-end", opp.contract_end),
      detail("Renewal term (months)", "opp-renewal-term", String(opp.renewal_term_months))),
    opp.contract_end ? null : el("p", { class: "warning", testid: "opp-contract-end-missing",
      text: "This opportunity has no contract end date." }),
    el("h2", { text: "Install base" }),
    el("table", { class: "grid", testid: "install-base" },
      el("thead", {}, el("tr", {}, ["#", "SKU", "Description", "Quantity", "Prior unit price",
        "Line ends", "Renew"].map((text) => el("th", { text })))),
      el("tbody", {}, opp.lines.map((line) => el("tr", { testid: "install-base-line",
        "data-line-no": line.line_no, class: line.renew ? null : "muted" },
      el("td", { testid: "line-no", text: String(line.line_no) }),
      el("td", { testid: "line-sku", text: line.sku }),
      el("td", { testid: "line-description", text: line.description }),
      el("td", { testid: "line-quantity", text: String(line.quantity) }),
      el("td", { testid: "line-prior-price", text: line.prior_unit_price || "" }),
      el("td", { testid: "line-end", text: line.line_end || "", title: "blank: ends with the contract" }),
      el("td", { testid: "line-renew", text: line.renew ? "yes" : "no" }))))),
    el("h2", { text: "Quotes" }),
    opp.quotes.length ? el("ul", { testid: "opp-quotes" }, opp.quotes.map((q) => el("li",
      { testid: "opp-quote-row", "data-quote-number": q.quote_number },
      link(`/quotes/${encodeURIComponent(q.quote_number)}`, q.quote_number, "opp-quote-link"),
      ` · ${q.status} · ${q.total} ${q.currency} · ref ${q.external_ref || "—"}`)))
      : el("p", { class: "muted", testid: "opp-no-quotes", text: "No quotes yet." }),
  );
}

async function viewQuotes(app, query) {
  const ref = el("input", { type: "search", name: "external_ref", testid: "search-external-ref",
    value: query.get("external_ref") || "" });
  const opp = el("input", { type: "search", name: "opportunity_id", testid: "search-opportunity-id",
    value: query.get("opportunity_id") || "" });
  const params = new URLSearchParams();
  if (query.get("external_ref")) params.set("external_ref", query.get("external_ref"));
  if (query.get("opportunity_id")) params.set("opportunity_id", query.get("opportunity_id"));
  const quotes = await api("GET", `/api/quotes?${params}`); // no criteria: every quote
  app.append(
    el("div", { class: "title-row" }, el("h1", { text: "Quotes" }),
      el("span", { class: "actions" },
        el("a", { href: "/quotes.csv", download: "quotes.csv", class: "button secondary",
          testid: "download-quotes-csv", text: "Download CSV" }),
        el("a", { href: "/bookings.csv", download: "bookings.csv", class: "button secondary",
          testid: "download-bookings-csv", text: "Bookings CSV" }))),
    el("form", { class: "filters", testid: "quote-search", onsubmit: (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      if (ref.value.trim()) next.set("external_ref", ref.value.trim());
      if (opp.value.trim()) next.set("opportunity_id", opp.value.trim());
      navigate(`/quotes?${next}`);
    } }, field("External reference", ref, "external_ref"), field("Opportunity", opp, "opportunity_id"),
    el("button", { type: "submit", class: "primary", testid: "search-submit", text: "Search" })),
  );
  if (!quotes.length) {
    app.append(el("p", { class: "muted", testid: "no-results", text: "No quotes found." }));
  } else {
    app.append(el("table", { class: "grid", testid: "quote-results" },
      el("thead", {}, el("tr", {}, ["Quote", "Opportunity", "External ref", "Status", "Total"]
        .map((text) => el("th", { text })))),
      el("tbody", {}, quotes.map((q) => el("tr", { testid: "quote-result-row",
        "data-quote-number": q.quote_number },
      el("td", { testid: "result-quote-number" }, link(`/quotes/${encodeURIComponent(q.quote_number)}`,
        q.quote_number, "result-quote-link")),
      el("td", { testid: "result-opportunity", text: q.opportunity_id }),
      el("td", { testid: "result-external-ref", text: q.external_ref }),
      el("td", { testid: "result-status", text: q.status }),
      el("td", { testid: "result-total", text: `${q.total} ${q.currency}` }))))));
  }
}

async function viewQuote(app, number) {
  const q = await api("GET", `/api/quotes/${encodeURIComponent(number)}`);
  const po = q.customer_po;
  const actions = el("div", { class: "actions" });
  if (q.status === "draft") {
    actions.append(link(`/opportunities/${encodeURIComponent(q.opportunity_id)}/quote?quote=${encodeURIComponent(q.quote_number)}`,
      "Edit draft", "edit-quote"));
  }
  if (q.status === "submitted" && po) {
    actions.append(link(`/quotes/${encodeURIComponent(q.quote_number)}/book`, "Book", "book-quote"));
  }
  app.append(
    el("div", { class: "title-row" }, el("h1", { text: "Quote " }, el("span", { testid: "quote-number", text: q.quote_number })), actions),
    el("dl", { class: "details", testid: "quote-details" },
      detail("Status", "quote-status", q.status),
      [el("dt", { text: "Opportunity" }), el("dd", {}, link(`/opportunities/${encodeURIComponent(q.opportunity_id)}`, q.opportunity_id, "quote-opportunity"))],
      detail("External reference", "quote-external-ref", q.external_ref),
      detail("Quote date", "quote-date", q.quote_date),
      detail("Valid until", "quote-valid-until", q.valid_until),
      detail("Currency", "quote-currency", q.currency),
      detail("Term start", "quote-term-start", q.term_start),
      detail("Term end", "quote-term-end", q.term_end),
      detail("Order number", "order-number", q.order_number || "")),
    el("table", { class: "grid", testid: "quote-lines" },
      el("thead", {}, el("tr", {}, ["#", "SKU", "Quantity", "From", "To", "Unit price", "Line amount"]
        .map((text) => el("th", { text })))),
      el("tbody", {}, q.lines.map((line) => el("tr", { testid: "quote-line", "data-sku": line.sku },
        el("td", { testid: "ql-line-no", text: String(line.line_no) }),
        el("td", { testid: "ql-sku", text: line.sku }),
        el("td", { testid: "ql-quantity", text: String(line.quantity) }),
        el("td", { testid: "ql-line-start", text: line.line_start }),
        el("td", { testid: "ql-line-end", text: line.line_end }),
        el("td", { testid: "ql-unit-price", text: line.unit_price }),
        el("td", { testid: "ql-line-amount", text: line.line_amount })))),
      el("tfoot", {}, el("tr", {}, el("td", { colspan: 6, text: "Total" }),
        el("td", { testid: "quote-total", text: q.total })))),
    el("h2", { text: "Customer acceptance" }),
    po ? el("dl", { class: "details", testid: "customer-po" },
      detail("PO number", "po-number", po.po_number), detail("PO date", "po-date", po.po_date),
      detail("Amount", "po-amount", po.amount), detail("Currency", "po-currency", po.currency),
      [el("dt", { text: "Document" }), el("dd", {}, el("a", { href: `/quotes/${encodeURIComponent(q.quote_number)}/po.pdf`,
        download: po.pdf_name, testid: "po-pdf", text: po.pdf_name }))])
      : el("p", { class: "muted", testid: "no-customer-po",
        text: q.status === "draft" ? "Not submitted yet." : "Awaiting customer acceptance." }),
  );
}

async function viewBooking(app, number) {
  const q = await api("GET", `/api/quotes/${encodeURIComponent(number)}`);
  app.append(el("h1", { text: `Book quote ${q.quote_number}` }));
  if (q.status !== "submitted" || !q.customer_po) {
    app.append(el("p", { class: "warning", testid: "not-bookable",
      text: q.status === "booked" ? `Already booked as ${q.order_number}.` : "This quote has no customer PO to book." }));
    return;
  }
  const form = el("form", { class: "stack", testid: "booking-form" });
  const poNumber = el("input", { name: "po_number", testid: "booking-po-number", autocomplete: "off" });
  const poDate = el("input", { type: "date", name: "po_date", testid: "booking-po-date" });
  const poAmount = el("input", { name: "po_amount", inputmode: "decimal", testid: "booking-po-amount" });
  const pdf = el("input", { type: "file", name: "pdf", accept: "application/pdf,.pdf", testid: "booking-pdf" });
  const submit = el("button", { type: "submit", class: "primary", testid: "book-submit", text: "Book" });
  form.append(el("p", { text: `Quote total ${q.total} ${q.currency}.` }),
    field("PO number", poNumber, "po_number"), field("PO date", poDate, "po_date"),
    field(`PO amount (${q.currency})`, poAmount, "po_amount"), field("PO document (PDF)", pdf, "pdf"),
    submit, el("p", { testid: "booking-result" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    if (!(await confirmModal("Book this order?", `Book quote ${q.quote_number} against PO ${poNumber.value}?`, "Book"))) return;
    const body = new FormData(form);
    submit.disabled = true;
    try {
      const result = await api("POST", `/api/quotes/${encodeURIComponent(q.quote_number)}/booking`, body);
      $("[data-testid=booking-result]", form).replaceChildren("Order number: ",
        el("strong", { testid: "booking-order-number", text: result.order_number }));
      toast("success", `Booked: order ${result.order_number}`);
    } catch (error) {
      showProblem(error, form);
    } finally {
      submit.disabled = false;
    }
  });
  app.append(form);
}

function boot() {
  $("[data-testid=logout]").addEventListener("click", async () => {
    try { await api("POST", "/logout"); } catch (_) { /* signed out either way */ }
    location.assign("/login");
  });
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest("a[data-link]");
    if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(anchor.getAttribute("href"));
  });
  window.addEventListener("popstate", render);
  api("GET", "/api/session").then((session) => {
    state.csrf = session.csrf_token;
    state.username = session.username;
    state.today = session.today;
    $("[data-testid=current-user]").textContent = session.username;
    return render();
  }).catch((error) => toast("error", error.message));
}

document.addEventListener("DOMContentLoaded", boot);
