// Acme's quote editor: SKU typeahead (debounced), line rows added in the browser, line
// amounts and total computed here; the server recomputes everything on save.
"use strict";

async function viewEditor(app, opportunityId, query) {
  const opp = await api("GET", `/api/opportunities/${encodeURIComponent(opportunityId)}`);
  const draftNumber = query.get("quote");
  const draft = draftNumber ? await api("GET", `/api/quotes/${encodeURIComponent(draftNumber)}`) : null;
  const editor = { opp, quoteNumber: draft ? draft.quote_number : null, dirty: false,
    draftTerm: draft ? [draft.term_start, draft.term_end] : null };
  const form = el("form", { class: "stack", testid: "quote-editor", novalidate: true });
  const termStart = el("input", { type: "date", name: "term_start", testid: "term-start",
    value: draft ? draft.term_start : "" });
  const termEnd = el("input", { type: "date", name: "term_end", testid: "term-end",
    value: draft ? draft.term_end : "" });
  const externalRef = el("input", { name: "external_ref", testid: "external-ref", maxlength: 64,
    autocomplete: "off", value: draft ? draft.external_ref : "" });
  const lines = el("div", { class: "lines", testid: "quote-lines-editor" });
  const total = el("output", { testid: "quote-total", text: "" });
  const numberLabel = el("span", { testid: "saved-quote-number", text: editor.quoteNumber || "" });
  const saveButton = el("button", { type: "submit", class: "secondary", testid: "save-quote", text: "Save draft" });
  const submitButton = el("button", { type: "button", class: "primary", testid: "submit-quote", text: "Submit quote" });

  const recompute = () => {
    let sum = 0n;
    let complete = true;
    lines.querySelectorAll("[data-testid=quote-line-row]").forEach((row) => {
      // A line runs the whole term unless its own dates say otherwise.
      const start = parseDay($("[data-testid=line-start]", row).value || termStart.value);
      const end = parseDay($("[data-testid=line-end]", row).value || termEnd.value);
      const share = start === null || end === null || end < start ? null
        : yearShare(start, end, opp.proration);
      const minor = lineAmountMinor($("[data-testid=line-unit-price]", row).value,
        $("[data-testid=line-quantity]", row).value, share, opp.currency);
      $("[data-testid=line-amount]", row).textContent =
        minor === null ? "" : formatMinor(minor, places(opp.currency));
      if (minor === null) complete = false; else sum += minor;
    });
    total.textContent = complete ? formatMinor(sum, places(opp.currency)) : "";
  };
  const touched = () => { editor.dirty = true; recompute(); };
  const renumber = () => {
    lines.querySelectorAll("[data-testid=quote-line-row]").forEach((row, index) => {
      row.dataset.index = String(index);
      row.querySelectorAll(".field-error").forEach((slot) => {
        slot.dataset.field = `lines.${index}.${slot.dataset.part}`;
      });
    });
  };
  const addLine = (line = {}) => {
    lines.append(lineRow(editor, line, { touched, renumber }));
    renumber();
    recompute();
  };

  const payload = () => ({
    opportunity_id: opp.opportunity_id, quote_number: editor.quoteNumber,
    external_ref: externalRef.value, term_start: termStart.value, term_end: termEnd.value,
    lines: [...lines.querySelectorAll("[data-testid=quote-line-row]")].map((row) => ({
      sku: $("[data-testid=line-sku]", row).value.trim(),
      quantity: $("[data-testid=line-quantity]", row).value.trim(),
      unit_price: $("[data-testid=line-unit-price]", row).value.trim(),
      line_start: $("[data-testid=line-start]", row).value,
      line_end: $("[data-testid=line-end]", row).value,
    })),
  });
  const save = async () => {
    clearProblems(form);
    const quote = await api("POST", "/api/quotes", payload());
    editor.quoteNumber = quote.quote_number;
    editor.dirty = false;
    numberLabel.textContent = quote.quote_number;
    history.replaceState({}, "", `${location.pathname}?quote=${encodeURIComponent(quote.quote_number)}`);
    return quote;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saveButton.disabled = true;
    try {
      const quote = await save();
      toast("success", `Quote ${quote.quote_number} saved`);
    } catch (error) {
      showProblem(error, form);
    } finally {
      saveButton.disabled = false;
    }
  });
  submitButton.addEventListener("click", async () => {
    const label = editor.quoteNumber ? `quote ${editor.quoteNumber}` : "this quote";
    const ok = await confirmModal("Submit quote?",
      `Submit ${label} for ${opp.opportunity_id} (total ${total.textContent || "?"} ${opp.currency})? `
      + "It cannot be changed after submission.", "Submit");
    if (!ok) return;
    submitButton.disabled = true;
    try {
      const saved = editor.dirty || !editor.quoteNumber ? await save() : null;
      const number = saved ? saved.quote_number : editor.quoteNumber;
      await api("POST", `/api/quotes/${encodeURIComponent(number)}/submit`);
      toast("success", `Quote ${number} submitted`);
      navigate(`/quotes/${encodeURIComponent(number)}`);
    } catch (error) {
      showProblem(error, form);
    } finally {
      submitButton.disabled = false;
    }
  });
  [termStart, termEnd, externalRef].forEach((input) => input.addEventListener("input", () => { editor.dirty = true; recompute(); }));

  form.append(
    el("div", { class: "grid-2" }, field("Term start", termStart, "term_start"),
      field("Term end", termEnd, "term_end"), field("External reference", externalRef, "external_ref")),
    el("span", { class: "field-error", testid: "field-error", "data-field": "lines" }),
    lines,
    el("button", { type: "button", class: "secondary", testid: "add-line", text: "+ Add line", onclick: () => addLine() }),
    el("p", { class: "total" }, "Total ", total, ` ${opp.currency}`),
    el("div", { class: "actions" }, saveButton, submitButton),
  );
  app.append(
    el("div", { class: "title-row" }, el("h1", { text: `Quote for ${opp.opportunity_id}` }),
      el("span", { class: "muted" }, "Quote number: ", numberLabel)),
    el("p", { class: "muted" }, el("span", { testid: "editor-account", text: opp.account_name }),
      ` · ${opp.currency} · ${opp.renewal_term_months}-month term · contract end ${opp.contract_end || "none"}`
      + ` · line amounts prorated by ${opp.proration.replace("_", " + ")}`),
    form,
  );
  if (draft) draft.lines.forEach((line) => addLine(line));
  else addLine();
  editor.dirty = false;
}

function lineRow(editor, line, hooks) {
  const { opp } = editor;
  const sku = el("input", { testid: "line-sku", role: "combobox", autocomplete: "off",
    "aria-autocomplete": "list", "aria-expanded": "false", placeholder: "Search SKU…", value: line.sku || "" });
  const quantity = el("input", { type: "number", min: 1, step: 1, testid: "line-quantity",
    value: line.quantity === undefined ? "1" : String(line.quantity) });
  const price = el("input", { inputmode: "decimal", testid: "line-unit-price", autocomplete: "off",
    value: line.unit_price || "" });
  // The line's own period (a line added mid-term renews from the day after it ends);
  // blank: the quote's term.
  const draftDates = line.line_start && editor.draftTerm
    && (line.line_start !== editor.draftTerm[0] || line.line_end !== editor.draftTerm[1]);
  const lineStart = el("input", { type: "date", testid: "line-start",
    value: draftDates ? line.line_start : "" });
  const lineEnd = el("input", { type: "date", testid: "line-end",
    value: draftDates ? line.line_end : "" });
  const suggestions = el("ul", { class: "suggestions", testid: "sku-suggestions", role: "listbox", hidden: true });
  const error = (part) => el("span", { class: "field-error", testid: "field-error", "data-part": part });
  const row = el("div", { class: "line-row", testid: "quote-line-row" },
    el("label", { class: "field sku-field" }, el("span", { text: "SKU" }), sku, suggestions, error("sku")),
    el("label", { class: "field" }, el("span", { text: "Quantity" }), quantity, error("quantity")),
    el("label", { class: "field" }, el("span", { text: "From" }), lineStart, error("line_start")),
    el("label", { class: "field" }, el("span", { text: "To" }), lineEnd, error("line_end")),
    el("label", { class: "field" }, el("span", { text: `Unit price (${opp.currency}/year)` }), price, error("unit_price")),
    el("div", { class: "field" }, el("span", { text: "Line amount" }), el("output", { testid: "line-amount" })),
    el("button", { type: "button", class: "link", testid: "remove-line", text: "Remove",
      onclick: () => { row.remove(); hooks.renumber(); hooks.touched(); } }));

  let timer = null;
  let asked = 0;
  const close = () => { suggestions.hidden = true; sku.setAttribute("aria-expanded", "false"); };
  const choose = async (code) => {
    sku.value = code;
    close();
    hooks.touched();
    const answer = await api("GET", `/api/prices?sku=${encodeURIComponent(code)}&currency=${encodeURIComponent(opp.currency)}`);
    if (answer.settle_ms) await new Promise((done) => setTimeout(done, answer.settle_ms));
    if (answer.unit_price !== null) price.value = answer.unit_price; // the portal's default: may be stale
    hooks.touched();
  };
  sku.addEventListener("input", () => {
    hooks.touched();
    clearTimeout(timer);
    const text = sku.value.trim();
    if (!text) { close(); return; }
    timer = setTimeout(async () => {
      const ticket = ++asked;
      try {
        const found = await api("GET", `/api/skus?q=${encodeURIComponent(text)}&currency=${encodeURIComponent(opp.currency)}`);
        if (ticket !== asked) return; // a newer search is under way
        suggestions.replaceChildren(...(found.length ? found.map((item) => el("li", {
          role: "option", testid: "sku-option", "data-sku": item.sku, tabindex: -1,
          onmousedown: (event) => event.preventDefault(),
          onclick: () => choose(item.sku).catch((err) => showProblem(err, row)) },
        el("strong", { text: item.sku }), " ", el("span", { class: "muted", text: item.description })))
          : [el("li", { class: "muted", testid: "sku-no-match", text: "No matching SKU" })]));
        suggestions.hidden = false;
        sku.setAttribute("aria-expanded", "true");
      } catch (err) {
        showProblem(err, row);
      }
    }, DEBOUNCE_MS);
  });
  sku.addEventListener("blur", () => setTimeout(close, 150));
  [quantity, price, lineStart, lineEnd].forEach((input) => input.addEventListener("input", hooks.touched));
  return row;
}
