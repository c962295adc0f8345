// Asks before a form that cannot be undone is sent (form[data-confirm]): a modal
// <dialog> with the question, the action and Cancel. Confirmed, the form is sent with
// confirmed=yes; without script the server asks on a page of its own instead.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  var dialog = document.getElementById("confirm-dialog");
  if (!question || !dialog || form.querySelector('input[name="confirmed"]')) {
    return;
  }
  event.preventDefault();
  var submitter = event.submitter || form.querySelector('button[type="submit"]');
  dialog.querySelector("#confirm-question").textContent = question;
  var go = dialog.querySelector("#confirm-go");
  go.textContent = submitter ? submitter.textContent : "Confirm";
  dialog.returnValue = "";
  dialog.onclose = function () {
    if (dialog.returnValue !== "go") {
      return;
    }
    var yes = document.createElement("input");
    yes.type = "hidden";
    yes.name = "confirmed";
    yes.value = "yes";
    form.appendChild(yes);
    form.submit();
  };
  dialog.showModal();
});
