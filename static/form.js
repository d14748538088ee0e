// The scenario form: reading it as the socket's run parameters, writing it
// as a share URL, keeping fault sliders and the faults text in step, and
// showing a field's error beside it. What the parameters are (names,
// defaults, the default speed, the no-effect sentence) it reads from the vocabulary
// the page renders from sim's parameter table (web/pages.go formVocabulary).

import { $, $$ } from "./dom.js";

export class ScenarioForm {
  constructor(form) {
    this.form = form;
    /** vocabulary is sim's parameter table: { params: [{name, default, core, view, choices}], noEffect }. */
    this.vocabulary = JSON.parse(form.dataset.vocabulary);
    this.param = Object.fromEntries(this.vocabulary.params.map((p) => [p.name, p]));
    // The scenario's parameter names in URL order.
    this.names = this.vocabulary.params.filter((p) => !p.view && this.field(p.name)).map((p) => p.name);
    /** story is the payment whose story is open on screen (0 for none): links name it. */
    this.story = 0;
    /** defaultSpeed is where playback starts when nothing says otherwise. */
    this.defaultSpeed = Number(this.param.speed.default);
    this.faultsText = form.elements.namedItem("faults");
    for (const input of $$("[data-fault]", form)) {
      input.addEventListener("input", () => this.faultChanged(input));
    }
    this.faultsText.addEventListener("input", () => this.faultsTextChanged());
    for (const name of ["design", "compare"]) {
      this.field(name)?.addEventListener("change", () => this.markFaults());
    }
    $("#new-seed")?.addEventListener("click", () => {
      const a = new Uint32Array(1);
      crypto.getRandomValues(a);
      this.field("seed").value = String(a[0]);
      this.form.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  /**
   * markFaults dims the faults that none of the chosen designs can be
   * touched by (a design with no bus has no publish to fail) and says so,
   * in the sentence the server renders (sim.NoEffectSentence).
   */
  markFaults() {
    const chosen = [this.value("design"), this.compare].filter(Boolean);
    for (const row of $$(".fault[data-designs]", this.form)) {
      const can = row.dataset.designs.split(" ");
      const none = chosen.length > 0 && chosen.every((d) => !can.includes(d));
      row.classList.toggle("na", none);
      const note = $(".fault-na", row);
      note.textContent = none ? this.vocabulary.noEffect.replace("{designs}", chosen.join(" or ")) : "";
      note.hidden = !none;
    }
  }

  /** field returns the control named name (the speed select lives outside the form element). */
  field(name) {
    return this.form.elements.namedItem(name) || document.querySelector(`[name="${name}"]`);
  }

  value(name) {
    return String(this.field(name)?.value ?? "").trim();
  }

  /** params are the scenario as the socket's run message wants it: the URL's strings. */
  params() {
    return Object.fromEntries(this.names.map((p) => [p, this.value(p)]));
  }

  get compare() {
    return this.value("compare");
  }

  get speed() {
    const n = Number(this.value("speed"));
    return Number.isFinite(n) ? n : this.defaultSpeed;
  }

  set speed(v) {
    const sel = this.field("speed");
    if (sel && [...sel.options].some((o) => Number(o.value) === v)) sel.value = String(v);
  }

  /** snapshot is the scenario the form holds now, to run it or compare it with the one that ran. */
  snapshot() {
    return { params: this.params(), compare: this.compare };
  }

  /** same says whether two snapshots are one scenario. */
  static same(a, b) {
    return !!a && !!b && JSON.stringify(a) === JSON.stringify(b);
  }

  /** query is the share URL's query string for snap (default: the form now) at the form's speed; autoplay adds autoplay=1. */
  query(autoplay, snap = this.snapshot()) {
    const q = new URLSearchParams();
    const p = snap.params;
    for (const name of this.names) {
      // Leave out what equals sim's default, to keep links short; the
      // core fields stay, so a link says what it shows.
      const { core, default: def } = this.param[name];
      if (p[name] === "" || (def && p[name] === def && !core)) continue;
      q.set(name, p[name]);
    }
    if (snap.compare) q.set("compare", snap.compare);
    q.set("speed", String(this.speed));
    if (this.story) q.set("story", String(this.story));
    if (autoplay) q.set("autoplay", "1");
    // Keep commas and equals signs readable: faults=bus.publish.fail=0.1,net.drop=0.02.
    return q.toString().replace(/%2C/gi, ",").replace(/%3D/gi, "=");
  }

  /** shareURL is the absolute link that replays snap (default: the form now). */
  shareURL(snap) {
    return `${location.origin}/play?${this.query(true, snap)}`;
  }

  /** syncURL sets the address bar to snap (default: the form now), without a history entry. */
  syncURL(snap) {
    history.replaceState(null, "", `/play?${this.query(false, snap)}`);
  }

  faultChanged(input) {
    const name = input.dataset.fault;
    for (const twin of $$(`[data-fault="${name}"]`, this.form)) {
      if (twin !== input) twin.value = input.value;
    }
    const items = [];
    for (const range of $$('input[type="range"][data-fault]', this.form)) {
      const p = Number(range.value);
      if (p > 0) items.push(`${range.dataset.fault}=${p}`);
    }
    this.faultsText.value = items.join(",");
  }

  faultsTextChanged() {
    const given = new Map();
    for (const item of this.faultsText.value.split(",")) {
      const [name, p] = item.split("=").map((s) => s && s.trim());
      if (name && p !== undefined && !Number.isNaN(Number(p))) given.set(name, Number(p));
    }
    for (const input of $$("[data-fault]", this.form)) input.value = String(given.get(input.dataset.fault) ?? 0);
  }

  /** showError puts message beside field (or at the top of the form for a field it does not have). */
  showError(field, message) {
    const slot = $(`[data-error-for="${field}"]`) || $('[data-error-for="form"]');
    slot.textContent = message;
    const input = this.field(field);
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", "true");
      input.closest("details")?.setAttribute("open", "");
      input.focus();
    }
  }

  clearErrors() {
    for (const slot of $$("[data-error-for]")) slot.textContent = "";
    for (const input of $$('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
  }

  get hasServerError() {
    return $$("[data-error-for]").some((s) => s.textContent.trim() !== "");
  }
}

/** copyLink copies url, or shows it selected in a text field when the clipboard is not available; caveat is added to the message. */
export async function copyLink(url, status, fallback, caveat = "") {
  try {
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(url);
    status.textContent = "Link copied. Anyone who opens it sees this exact run." + caveat;
    fallback.hidden = true;
  } catch {
    status.textContent = "Copy this link:" + caveat;
    fallback.hidden = false;
    fallback.value = url;
    fallback.focus();
    fallback.select();
  }
}
