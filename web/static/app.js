// The one script of the pages: a note's length counted as it is typed, so that a limit
// is seen before it bites (the server keeps and refuses a longer note; nothing is cut).
document.querySelectorAll("textarea[data-max]").forEach(function (box) {
  var max = Number(box.dataset.max);
  var out = document.getElementById(box.getAttribute("aria-describedby"));
  if (!out) return;
  function count() {
    var n = box.value.length;
    out.textContent = n.toLocaleString("en") + " of " + max.toLocaleString("en") + " characters" +
      (n > max ? ": " + (n - max).toLocaleString("en") + " too many, shorten it to save" : "");
    out.classList.toggle("problem-text", n > max);
  }
  box.addEventListener("input", count);
  count();
});
