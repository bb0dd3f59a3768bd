// Says what is wrong with a number typed into an Observable Inputs range or number: the input refuses a value outside
// its range (its value, and so every figure, stays the last valid one), and without this the refusal is silent.

/** Adds a message under `form`'s number box while it holds a value the input refuses; returns `form`. */
export function guardNumber(form, {name, unit = ""} = {}) {
  const box = form.querySelector("input[type=number]");
  if (!box) return form;
  const msg = document.createElement("div");
  msg.className = "hw-input-error";
  msg.setAttribute("role", "alert");
  msg.hidden = true;
  form.append(msg);
  const fmt = (n) => Number(n).toLocaleString("en-US");
  const check = () => {
    const text = box.value.trim();
    const v = Number(text);
    const min = box.min === "" ? -Infinity : Number(box.min);
    const max = box.max === "" ? Infinity : Number(box.max);
    const wholeOnly = box.step === "1" || box.step === "";
    let problem = "";
    if (text === "" || !Number.isFinite(v)) problem = `${name}: "${box.value}" is not a number`;
    else if (v < min || v > max) problem = `${name} ${fmt(v)} is outside ${fmt(min)}–${fmt(max)}${unit ? ` ${unit}` : ""}`;
    else if (wholeOnly && !Number.isInteger(v)) problem = `${name} ${v} is not a whole number`;
    msg.hidden = !problem;
    msg.textContent = problem ? `${problem}: the figures below are still for ${fmt(form.value)}${unit ? ` ${unit}` : ""}.` : "";
  };
  box.addEventListener("input", check);
  // A valid change from the slider clears the message.
  form.addEventListener("input", (e) => {
    if (e.target !== box) check();
  });
  return form;
}

/**
 * The value of `input` once it has stopped moving for `ms`: an EventTarget with `.value` for Generators.input. What
 * follows the context slider at leisure (the address bar, the launch commands) waits for it; what a move must redraw
 * at once listens to the input itself.
 */
export function settled(input, ms = 150) {
  const proxy = new EventTarget();
  proxy.value = input.value;
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (proxy.value === input.value) return;
      proxy.value = input.value;
      proxy.dispatchEvent(new Event("input"));
    }, ms);
  });
  return proxy;
}
