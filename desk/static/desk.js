/* The desk's small helps; every page works without them (but the Mini App's opening page,
   which only Telegram opens).
   - A Mini App's opening page posts the init data Telegram put in the address's fragment.
   - Choosing a reason from the office's list fills in its words (still editable) and, on a
     submission's page, picks the matching decision.
   - Keys on a submission's page: a approve, r reject, k return for correction (each picks the
     decision and moves to what it needs next; Enter on the Decide button decides), j opens the
     next in the queue. Keys typed into a field are the field's. */
(function () {
  "use strict";

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    return tag === "input" && !/^(radio|checkbox|button|submit)$/.test(el.type);
  }

  document.querySelectorAll("select.template").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var form = select.form;
      var box = form.querySelector("textarea[name=reason], input[name=reason]");
      if (box && option && option.value) box.value = option.getAttribute("data-body") || "";
      var group = option && option.parentElement;
      var decision = group && group.getAttribute("data-decision");
      var radio = decision && form.querySelector("input[name=decision][value=" + decision + "]");
      if (radio) radio.checked = true;
    });
  });

  var miniapp = document.querySelector("form.miniapp");
  if (miniapp) {
    var launch = new URLSearchParams(window.location.hash.slice(1));
    var initData = launch.get("tgWebAppData");
    if (initData) {
      miniapp.querySelector("input[name=init_data]").value = initData;
      miniapp.submit();
    }
  }

  var decide = document.querySelector("form.decide");
  var hint = document.querySelector(".keys");
  if (hint && decide) hint.hidden = false;

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) return;
    var key = (event.key || "").toLowerCase();
    if (key === "j") {
      var next = document.querySelector("a[rel=next]");
      if (next) {
        event.preventDefault();
        window.location.href = next.href;
      }
      return;
    }
    if (!decide) return;
    var radio = decide.querySelector("input[name=decision][data-key='" + key + "']");
    if (!radio) return;
    event.preventDefault();
    radio.checked = true;
    var target;
    if (key === "a") target = decide.querySelector("button[type=submit]");
    else if (key === "r") target = decide.querySelector("select.template");
    else target = decide.querySelector("input[name=fields]") || decide.querySelector("select.template");
    if (target) target.focus();
  });
})();
