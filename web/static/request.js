// The status form: show the standard text of the chosen status, ready to edit. Without
// JavaScript the text area stays empty and the server sends the standard text.
(function () {
  "use strict";
  const select = document.getElementById("status-select");
  const text = document.getElementById("status-message");
  if (!select || !text) {
    return;
  }
  const standardText = () => select.options[select.selectedIndex].dataset.standard || "";
  let shown = standardText();
  if (text.value.trim() === "") {
    text.value = shown;
  }
  select.addEventListener("change", () => {
    // Replace the text only if the official has not written their own.
    if (text.value.trim() === "" || text.value === shown) {
      text.value = standardText();
    }
    shown = standardText();
  });
})();
