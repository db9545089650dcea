// Sambruk Assistent: what Chainlit 2.12's frontend does not let the configuration change.
//
// 1. A source panel opens when the user clicks a source chip ("Källa n"), not by itself. Chainlit opens
//    the side panel (on a phone: a sheet over the chat, which blocks the question field) whenever an
//    answer brings new side elements, stacking every source of the conversation under the last one's
//    name. Such a panel is closed at once unless the user has just clicked a chip; on a phone, where the
//    sheet would slide out visibly while it closes, sambruk.css hides it unless a chip asked for it.
// 2. Swedish for the few texts the bundle hard-codes in English instead of taking them from
//    translations/sv-SE.json: screen-reader labels ("Toggle Sidebar", "Close"), image alt texts
//    ("Image", "Avatar for ..."), toasts. They are read aloud, so they count as much as visible text.
// If Chainlit's markup changes, nothing breaks: the panel then opens by itself again and the texts
// stay English (tests/test_ui_browser.py notices both).
(function () {
  "use strict";

  // -- 2. Swedish texts ---------------------------------------------------------------------------
  var EXACT = {
    "Toggle Sidebar": "Visa eller dölj sidopanelen",
    "Toggle theme": "Byt tema",
    "Close": "Stäng",
    "Close toast": "Stäng meddelandet",
    "Close lightbox": "Stäng förstoringen",
    "Loading...": "Laddar...",
    "Loading preview...": "Laddar förhandsvisning...",
    "Loading PDF...": "Laddar PDF...",
    "An error occurred": "Ett fel inträffade",
    "An error occurred while loading the content": "Innehållet kunde inte laddas",
    "Are you sure?": "Är du säker?",
    "Unshare": "Sluta dela",
    "Output": "Utdata",
    "Tasks": "Uppgifter",
    "Previous": "Föregående",
    "Next": "Nästa",
    "Previous slide": "Föregående bild",
    "Next slide": "Nästa bild",
    "More pages": "Fler sidor",
    "Go to previous page": "Gå till föregående sida",
    "Go to next page": "Gå till nästa sida",
    "pagination": "sidnumrering",
    "View PDF": "Visa PDF",
    "Open PDF in a larger view": "Öppna PDF:en i större vy",
    "A modal with a larger view of the PDF.": "En större vy av PDF:en.",
    "Download PDF": "Ladda ned PDF",
    "Print/Open PDF": "Skriv ut eller öppna PDF",
    "Your browser does not support the video tag.": "Webbläsaren kan inte visa videon.",
    "Listening": "Lyssnar",
    "Save": "Spara",
    "Connect": "Anslut",
    "Updating": "Uppdaterar",
    "Feedback updated!": "Återkopplingen är sparad",
    "Couldn't resume chat": "Konversationen kunde inte återupptas",
    "Headers must be valid JSON": "Rubrikerna måste vara giltig JSON",
    "logo": "Sambruk Assistent",
    "user image": "Användarens bild",
  };
  // Alt texts of decorative images: empty, so screen readers skip them.
  var DECORATIVE_ALT = { "Image": "", "Mode option icon": "" };
  var PREFIXES = [
    ["Avatar for ", "Profilbild för "],
    ["Couldn't resume chat: ", "Konversationen kunde inte återupptas: "],
    ["Failed to load thread: ", "Konversationen kunde inte läsas in: "],
    ["Error fetching threads: ", "Konversationerna kunde inte hämtas: "],
    ["Failed to copy: ", "Kunde inte kopiera: "],
    ["Notifications ", "Aviseringar "],
  ];
  var ATTRIBUTES = ["aria-label", "title", "alt", "placeholder"];
  // Text of the conversation (questions, answers, sources, thread titles) is never touched.
  var CONTENT = "[data-step-type], .message-content, #side-view-content, .prose, a[href*='/thread/']";

  function swedish(text) {
    if (Object.prototype.hasOwnProperty.call(EXACT, text)) return EXACT[text];
    for (var i = 0; i < PREFIXES.length; i++) {
      if (text.indexOf(PREFIXES[i][0]) === 0) return PREFIXES[i][1] + text.slice(PREFIXES[i][0].length);
    }
    return null;
  }

  function translateElement(element) {
    for (var i = 0; i < ATTRIBUTES.length; i++) {
      var name = ATTRIBUTES[i];
      var value = element.getAttribute(name);
      if (value === null) continue;
      var replaced = name === "alt" && Object.prototype.hasOwnProperty.call(DECORATIVE_ALT, value)
        ? DECORATIVE_ALT[value] : swedish(value);
      if (replaced !== null && replaced !== value) element.setAttribute(name, replaced);
    }
  }

  function translateText(node) {
    var text = node.nodeValue;
    var trimmed = text.trim();
    if (!trimmed) return;
    var parent = node.parentElement;
    if (!parent || parent.closest(CONTENT) || parent.closest("script, style")) return;
    var replaced = swedish(trimmed);
    if (replaced !== null) node.nodeValue = text.replace(trimmed, replaced);
  }

  function translate(root) {
    if (root.nodeType === Node.TEXT_NODE) {
      translateText(root);
      return;
    }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    translateElement(root);
    var elements = root.querySelectorAll("[aria-label], [title], [alt], [placeholder]");
    for (var i = 0; i < elements.length; i++) translateElement(elements[i]);
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) translateText(walker.currentNode);
  }

  // -- 1. source panels on a click only -------------------------------------------------------------
  var lastChipClick = 0;
  var allowed = null; // what the panel showed when the user opened it
  var REQUESTED = "sambruk-source-requested"; // on <html> while a panel the user asked for is open

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("a.element-link")) {
      lastChipClick = Date.now();
      document.documentElement.classList.add(REQUESTED);
    }
  }, true);

  function signature(title) {
    var content = document.getElementById("side-view-content");
    return title.textContent + "|" + (content ? content.children.length : 0);
  }

  function closeButton(title) {
    // Wide screens: the back arrow in the panel's title. Phones: the sheet's own close button.
    var back = title.querySelector("button");
    if (back) return back;
    var sheet = title.closest("[role='dialog']");
    return sheet ? sheet.querySelector(":scope > button") : null;
  }

  function checkPanel() {
    var title = document.getElementById("side-view-title");
    if (!title) {
      allowed = null;
      if (Date.now() - lastChipClick >= 1500) document.documentElement.classList.remove(REQUESTED);
      return;
    }
    var current = signature(title);
    if (Date.now() - lastChipClick < 1500) {
      allowed = current;
      return;
    }
    if (current === allowed) return;
    var close = closeButton(title);
    if (close) close.click();
  }

  // -- wiring ---------------------------------------------------------------------------------------
  function onMutations(mutations) {
    for (var i = 0; i < mutations.length; i++) {
      var mutation = mutations[i];
      if (mutation.type === "attributes") {
        translateElement(mutation.target);
      } else if (mutation.type === "characterData") {
        translateText(mutation.target);
      } else {
        for (var j = 0; j < mutation.addedNodes.length; j++) translate(mutation.addedNodes[j]);
      }
    }
    // At once, not in the next frame: the panel is then never painted (a later check found the phone's
    // sheet already shown, which is how it stayed open over the chat).
    checkPanel();
  }

  function start() {
    translate(document.body);
    new MutationObserver(onMutations).observe(document.body, {
      childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES,
    });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
