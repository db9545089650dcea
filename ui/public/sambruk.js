// Sambruk Assistent: a source panel opens when the user clicks a source chip ("Källa n"), not by itself.
// Chainlit 2.12 opens the side panel on its own whenever an answer brings new side elements, stacking
// every source of the conversation under the last one's name. This closes such a panel (with its own
// back button) unless the user has just clicked a chip. If Chainlit's markup changes, nothing breaks:
// the panel then simply opens by itself again.
(function () {
  "use strict";
  var lastChipClick = 0;
  var allowed = null; // what the panel showed when the user opened it
  var scheduled = false;

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("a.element-link")) {
      lastChipClick = Date.now();
    }
  }, true);

  function signature(title) {
    var content = document.getElementById("side-view-content");
    return title.textContent + "|" + (content ? content.children.length : 0);
  }

  function check() {
    scheduled = false;
    var title = document.getElementById("side-view-title");
    if (!title) {
      allowed = null;
      return;
    }
    var current = signature(title);
    if (Date.now() - lastChipClick < 1500) {
      allowed = current;
      return;
    }
    if (current === allowed) {
      return;
    }
    var back = title.querySelector("button");
    if (back) {
      back.click();
    }
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(check);
    }
  }

  function start() {
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
