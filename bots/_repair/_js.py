"""The browser side of fingerprints: one function that describes an element, run in the page.

`DESCRIBE` is the body shared by the capture of one element (`CAPTURE`, one round trip per
key) and the survey of a whole page (`SURVEY`, one round trip per frame); both return plain
objects that `schemas.fingerprint.ElementFingerprint` validates.
"""

from __future__ import annotations

_DESCRIBE = r"""
const clean = (s, n = 80) => (s || "").replace(/\s+/g, " ").trim().slice(0, n) || null;
const BUTTONS = new Set(["submit", "button", "reset", "image"]);
const CONTROLS = "input:not([type=hidden]), select, textarea, button, a[href], [role=button]";
const TEST_IDS = ["data-testid", "data-test", "data-qa", "data-test-id"];
const IMPLIED = { a: "link", button: "button", select: "combobox", textarea: "textbox",
  h1: "heading", h2: "heading", h3: "heading", h4: "heading", td: "cell", th: "columnheader",
  output: "status", table: "table", form: "form", li: "listitem", dd: "definition" };
const INPUT_ROLES = { submit: "button", button: "button", reset: "button", image: "button",
  checkbox: "checkbox", radio: "radio", number: "spinbutton", range: "slider" };
const roleOf = (el, tag) => el.getAttribute("role") || (tag === "input"
  ? INPUT_ROLES[(el.getAttribute("type") || "text").toLowerCase()] || "textbox"
  : IMPLIED[tag] || "generic");
const textOf = (el, tag) => {
  if (tag === "input" || tag === "textarea" || tag === "select") {
    return BUTTONS.has((el.type || "").toLowerCase()) ? clean(el.value) : null;
  }
  return clean(el.innerText !== undefined && el.isConnected ? el.innerText : el.textContent);
};
const byId = (el, id) => { const root = el.getRootNode(); return root.getElementById
  ? root.getElementById(id) : document.getElementById(id); };
const labelOf = (el, tag) => {
  const by = el.getAttribute("aria-labelledby");
  if (by) return clean(by.split(/\s+/).map((id) => byId(el, id)?.textContent || "").join(" "));
  if (el.labels && el.labels.length) {
    const label = el.labels[0].cloneNode(true);
    label.querySelectorAll("input, select, textarea, ul, [data-testid=field-error]")
      .forEach((c) => c.remove());
    return clean(label.textContent);
  }
  const cell = el.closest("td, dd");
  if (cell && cell.tagName === "DD") {
    let dt = cell.previousElementSibling;
    while (dt && dt.tagName !== "DT") dt = dt.previousElementSibling;
    return dt ? clean(dt.textContent) : null;
  }
  if (cell) {
    const th = cell.parentElement && cell.parentElement.querySelector(":scope > th");
    if (th) return clean(th.textContent);
    const before = cell.previousElementSibling;
    if (before && before.classList.contains("label")) return clean(before.textContent);
  }
  const said = el.previousSibling;  // "Account: <b>Stark Bank</b>"
  if (said && said.nodeType === 3 && /:\s*$/.test(said.textContent)) {
    return clean(said.textContent.replace(/:\s*$/, ""));
  }
  const root = el.getRootNode();  // in a shadow root: what labels its host
  return root instanceof ShadowRoot ? labelOf(root.host, root.host.tagName.toLowerCase()) : null;
};
const HEADS = new Map();  // table -> its header row
const headerOf = (el) => {
  const cell = el.closest("td, th");
  const table = cell && cell.closest("table");
  if (!table) return [null, null];
  const column = cell.cellIndex + 1;
  if (!HEADS.has(table)) {
    HEADS.set(table, table.tHead ? table.tHead.rows[0]
      : [...table.rows].find((r) => r.querySelector(":scope > th")));
  }
  const head = HEADS.get(table) === cell.parentElement ? null : HEADS.get(table);
  const th = head && head.cells[cell.cellIndex];
  return [th && th.tagName === "TH" && th !== cell ? clean(th.textContent, 40) : null, column];
};
const neighboursOf = (el, own) => {
  const root = el.getRootNode();
  const base = root.body || root;
  const walk = (forward, count) => {
    const w = document.createTreeWalker(base, NodeFilter.SHOW_TEXT);
    w.currentNode = el;
    const found = [];
    if (forward) {  // skip the element's own texts
      let last = el;
      while (last.lastChild) last = last.lastChild;
      w.currentNode = last;
    }
    while (found.length < count) {
      const node = forward ? w.nextNode() : w.previousNode();
      if (!node) break;
      const parent = node.parentElement;
      if (parent && (parent.closest("script, style, option") || el.contains(node))) continue;
      const text = clean(node.textContent, 40);
      if (text && text !== own) found.push(text);
    }
    return found;
  };
  const found = [...walk(false, 2), ...walk(true, 1)];
  // in a shadow root, the texts around its host too
  return root instanceof ShadowRoot ? [...found, ...neighboursOf(root.host, own)] : found;
};
const pathOf = (el) => {
  const path = [];
  for (let n = el; n; ) {
    if (n.nodeType === 11) { path.unshift("#shadow"); n = n.host; continue; }
    if (n.nodeType !== 1) break;
    path.unshift(n.tagName.toLowerCase());
    n = n.parentNode;
  }
  return path;
};
const PLACES = new Map();  // container -> what -> element -> place: a survey asks often
const placeOf = (el) => {
  const box = el.closest("form, fieldset, table, dl, [role=form], [role=dialog]")
    || el.getRootNode().body || el.getRootNode();
  const what = el.matches(CONTROLS) ? CONTROLS : el.tagName;
  if (!PLACES.has(box)) PLACES.set(box, new Map());
  const known = PLACES.get(box);
  if (!known.has(what)) {
    known.set(what, new Map([...box.querySelectorAll(what)].map((e, i) => [e, i + 1])));
  }
  return known.get(what).get(el) || null;
};
const describe = (el) => {
  const tag = el.tagName.toLowerCase();
  const data = {};
  let testId = null;
  for (const a of el.attributes) {
    if (TEST_IDS.includes(a.name)) testId = testId || a.value;
    else if (a.name.startsWith("data-")) data[a.name.slice(5)] = a.value.slice(0, 80);
  }
  const text = textOf(el, tag);
  const label = labelOf(el, tag);
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const visible = r.width > 0 && r.height > 0 && style.visibility !== "hidden"
    && (el.checkVisibility ? el.checkVisibility() : true);
  const [header, column] = headerOf(el);
  return {
    tag, type: el.getAttribute("type"), role: roleOf(el, tag),
    name: clean(el.getAttribute("aria-label")) || label || text
      || clean(el.getAttribute("placeholder")) || clean(el.getAttribute("title")),
    label, id: el.id || null, field_name: el.getAttribute("name"), test_id: testId, data,
    classes: [...el.classList], text, neighbours: neighboursOf(el, text),
    header, column, path: pathOf(el), form_index: placeOf(el),
    box: [r.x + scrollX, r.y + scrollY, r.width, r.height], visible,
    in_shadow: el.getRootNode() instanceof ShadowRoot,
  };
};
"""

CAPTURE = "(els) => {" + _DESCRIBE + "return els.length ? describe(els[0]) : null; }"
"""The description of a locator's first element (`Locator.evaluate_all`: one protocol call,
where `Locator.evaluate` makes three)."""

CAPTURE_ALL = (
    "([root], selectors) => {"
    + _DESCRIBE
    + r"""
return Object.fromEntries(Object.entries(selectors).map(([key, css]) => {
  try {
    const el = root.ownerDocument.querySelector(css);
    return [key, el ? describe(el) : null];
  } catch (e) { return [key, "not css"]; }
}));
}"""
)
"""Several keys of one page described at once, by CSS selector (`Locator.evaluate_all` on
the page's `:root`); a key whose selector is not plain CSS is answered "not css"."""

_KEPT = "Symbol.for('quotebot.repair')"

SURVEY = (
    "(scope, relative) => {"
    + _DESCRIBE
    + r"""
const SKIP = new Set(["html", "head", "body", "script", "style", "template", "option", "br",
  "tbody", "thead", "tr", "colgroup", "col", "meta", "link", "title", "noscript"]);
const CONTROLS_ONLY = "input:not([type=hidden]), select, textarea, button, a[href]";
const found = [];
const visit = (root) => {
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) visit(el.shadowRoot);
    const tag = el.tagName.toLowerCase();
    if (SKIP.has(tag) || tag.includes("-")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own || el.matches(CONTROLS_ONLY) || el.hasAttribute("role") || el.id
        || TEST_IDS.some((a) => el.hasAttribute(a))) found.push(el);
  }
};
visit(relative ? scope : document);
window["""
    + _KEPT
    + r"""] = found;
return JSON.stringify(found.map(describe));  // one string: cheap for Playwright to carry
}"""
)
"""Every element of a frame (or of `scope`, when `relative`) that a key could point at, shadow
roots included, described (as one JSON string). The elements are kept in the page under a
symbol, so that `IS_SURVEYED` can tell whether a locator finds the very element the survey
described."""

IS_SURVEYED = "(el, i) => window[" + _KEPT + "][i] === el"

PROPOSE = (
    r"""(scope, [i, relative]) => {
const el = window["""
    + _KEPT
    + r"""][i];
const TEST_IDS = ["data-testid", "data-test", "data-qa", "data-test-id"];
const q = (v) => /^[A-Za-z_][\w-]*$/.test(v) ? v : JSON.stringify(v);  // [data-testid=save]
const GENERATED = /([0-9a-f]{6,}|\d{3,})$/i;
const stable = (a) => a && /^[A-Za-z][\w-]*$/.test(a) && !GENERATED.test(a);
const own = (n) => {
  const t = TEST_IDS.find((a) => n.hasAttribute(a));
  if (t) return `[${t}=${q(n.getAttribute(t))}]`;
  if (stable(n.id)) return `#${n.id}`;
  return null;
};
const out = [];
const t = TEST_IDS.find((a) => el.hasAttribute(a));
if (t) out.push(`[${t}=${q(el.getAttribute(t))}]`);
if (stable(el.id)) out.push(`#${el.id}`);
else if (el.id && GENERATED.test(el.id)) {
  const stem = el.id.replace(GENERATED, "");
  if (stem.length >= 4) out.push(`[id^=${q(stem)}]`);
}
const tag = el.tagName.toLowerCase();
const name = el.getAttribute("name");
if (name) out.push(`${tag}[name=${q(name)}]`);
if (relative && el.closest("td, th") === el) out.push(`${tag}:nth-child(${el.cellIndex + 1})`);
// a path from the nearest ancestor that has an identity of its own
const steps = [];
for (let n = el; n && n.nodeType === 1; ) {
  const mine = n === el ? null : own(n);
  if (mine) { steps.unshift(mine); break; }
  const parent = n.parentNode;
  const siblings = parent ? [...parent.children].filter((c) => c.tagName === n.tagName) : [];
  const step = n.tagName.toLowerCase()
    + (siblings.length > 1 ? `:nth-of-type(${siblings.indexOf(n) + 1})` : "");
  steps.unshift(step);
  if (parent && parent.nodeType === 11) {  // a shadow root: start from its host
    steps.unshift(own(parent.host) || parent.host.tagName.toLowerCase(), "");
    break;
  }
  if (!parent || parent.nodeType !== 1 || (relative && parent === scope)) break;
  n = parent;
}
const path = steps.join(" > ").replace(" >  > ", " ");
// a path from a close ancestor with an identity ("[data-testid=page-next] > button") keeps
// the map's anchor and beats the text, which a translation changes; a long one does not
const close = steps.length <= 3 && /^[[#]/.test(steps[0]);
if (close) out.push(path);
const text = (el.value && ["submit", "button"].includes(el.type)) ? null
  : (el.textContent || "").replace(/\s+/g, " ").trim();
if (el.type === "submit" || el.type === "button") {
  if (tag === "input") out.push(`input[value=${q(el.value)}]`);
}
if (text && text.length <= 40 && ["button", "a", "label", "h1", "h2", "h3"].includes(tag)) {
  out.push(`${tag}:text-is(${JSON.stringify(text)})`);
}
if (!close) out.push(path);
return out;
}"""
)
"""Locators in the map's style for a surveyed element, the most stable first: test id, id (a
generated id by its stable prefix), name, a cell's column, a short path from a close
ancestor with an identity of its own, a button's text, a longer such path."""
