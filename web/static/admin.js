// The admins' knowledge pages. Without JavaScript everything works: the preview is the
// one the server rendered, and every type's validation fields are shown, each labelled.
(function () {
  "use strict";

  // The text editor: the Telegram preview follows the text while it is typed, with the
  // placeholders filled in the way the bot does (Python's str.format: {name}, {{ and }}).
  const editor = document.querySelector(".text-editor");
  if (editor) {
    const examples = JSON.parse(editor.dataset.examples || "{}");
    const formatted = editor.dataset.formatted === "yes";
    const dutch = document.getElementById("text-nl");
    const fill = (text, language) => {
      if (!formatted) {
        return text;
      }
      const values = examples[language] || {};
      return text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field) => {
        if (whole === "{{") {
          return "{";
        }
        if (whole === "}}") {
          return "}";
        }
        const name = field.split(/[.[!:]/)[0];
        return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : "‹" + name + "›";
      });
    };
    const update = () => {
      editor.querySelectorAll("[data-preview]").forEach((bubble) => {
        const language = bubble.dataset.preview;
        const own = document.getElementById("text-" + language);
        // Without an English text the bot says the Dutch one.
        const text = own && own.value.trim() ? own.value : dutch.value;
        bubble.textContent = fill(text, language);
      });
    };
    editor.querySelectorAll("textarea[data-language]").forEach((area) => {
      area.addEventListener("input", update);
    });
    update(); // text typed (or restored by the browser) before this script ran
  }

  // The question form: show only the validation fields of the chosen answer type.
  const type = document.getElementById("answer-type");
  if (type) {
    const show = () => {
      document.querySelectorAll("fieldset.for-type").forEach((fieldset) => {
        fieldset.hidden = fieldset.dataset.type !== type.value;
      });
    };
    type.addEventListener("change", show);
    show();
  }
})();
