// A searchable device picker: type part of a name (a datalist offers the matches), press Enter or pick one to add
// it; each chosen device is a chip that removes itself. Its value is the chosen devices, like Inputs.select's
// (an Observable view: it dispatches "input" when the choice changes).

/** `devices`: [{id, name, memoryBytes}]; `format(d)`: the text a device is listed and found by. */
export function DevicePicker(devices, {label = "Devices", noun = "devices", value = [], format = (d) => d.name, max = 8, id} = {}) {
  const form = document.createElement("form");
  form.className = "hw-picker";
  if (id) form.id = id;
  const listId = `${id ?? "devices"}-list`;
  const byText = new Map(devices.flatMap((d) => [[format(d).toLowerCase(), d], [d.id.toLowerCase(), d], [d.name.toLowerCase(), d]]));
  let chosen = value.slice(0, max);
  form.innerHTML = `<label for="${listId}-input">${label}</label><div class="hw-picker-body"><div class="hw-chips"></div>
    <input id="${listId}-input" type="search" list="${listId}" autocomplete="off" placeholder="search ${devices.length} ${noun}…">
    <datalist id="${listId}"></datalist><div class="hw-picker-note muted" aria-live="polite"></div></div>`;
  const chips = form.querySelector(".hw-chips");
  const input = form.querySelector("input");
  const note = form.querySelector(".hw-picker-note");
  const list = form.querySelector("datalist");
  for (const d of devices) {
    const o = document.createElement("option");
    o.value = format(d);
    list.append(o);
  }
  const render = () => {
    chips.replaceChildren(...chosen.map((d) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "hw-chip";
      b.dataset.id = d.id;
      b.title = `remove ${d.name}`;
      b.textContent = `${format(d)} ×`;
      b.onclick = () => {
        chosen = chosen.filter((x) => x !== d);
        changed();
      };
      return b;
    }));
  };
  const changed = () => {
    render();
    form.value = chosen;
    form.dispatchEvent(new Event("input", {bubbles: true}));
  };
  const add = () => {
    const text = input.value.trim().toLowerCase();
    if (!text) return;
    const d = byText.get(text) ?? (() => {
      const hits = devices.filter((x) => format(x).toLowerCase().includes(text) || x.id.includes(text));
      return hits.length === 1 ? hits[0] : undefined;
    })();
    if (!d) {
      note.textContent = `no single device matches "${input.value.trim()}": pick one from the list`;
      input.setAttribute("aria-invalid", "true");
      return;
    }
    input.removeAttribute("aria-invalid");
    note.textContent = chosen.length >= max ? `at most ${max} ${noun}: remove one first` : "";
    if (!chosen.includes(d) && chosen.length < max) {
      chosen = [...chosen, d];
      input.value = "";
      changed();
    }
  };
  // A pick from the datalist fires "input" with the option's full text; Enter adds what is typed.
  input.addEventListener("input", (e) => {
    e.stopPropagation();
    if (byText.has(input.value.trim().toLowerCase())) add();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      add();
    }
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  form.value = chosen;
  render();
  return form;
}
