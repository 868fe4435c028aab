// The live transcript: one entry per turn, words as they are heard, cuts marked.

export class Transcript {
  constructor(list, colorOf, nameOf) {
    this.list = list;
    this.colorOf = colorOf;
    this.nameOf = nameOf;
    this.turns = new Map(); // task id → entry
    this.partials = new Map(); // person → entry
  }

  entry(who, { partial = false } = {}) {
    const item = document.createElement("li");
    item.style.setProperty("--color", this.colorOf(who));
    item.dataset.who = who;
    item.dataset.partial = String(partial);
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = this.nameOf(who);
    const text = document.createElement("span");
    text.className = "text";
    item.append(name, text);
    this.list.append(item);
    this.scroll();
    return item;
  }

  clear() {
    this.list.replaceChildren();
    this.turns.clear();
    this.partials.clear();
  }

  note(text) {
    const item = document.createElement("li");
    item.className = "note";
    item.textContent = text;
    this.list.append(item);
    this.scroll();
  }

  person(who, text, final) {
    let item = this.partials.get(who);
    if (!item) {
      if (!text) return;
      item = this.entry(who, { partial: !final });
      this.partials.set(who, item);
    }
    item.querySelector(".text").textContent = text || "…";
    item.dataset.partial = String(!final);
    if (final) {
      this.partials.delete(who);
      if (!text) item.remove();
    }
  }

  turnStarted(agent, taskId) {
    if (!this.turns.has(taskId)) this.turns.set(taskId, this.entry(agent));
  }

  words(agent, taskId, text) {
    this.turnStarted(agent, taskId);
    this.turns.get(taskId).querySelector(".text").textContent += text;
    this.scroll();
  }

  turnEnded(taskId, state) {
    const item = this.turns.get(taskId);
    if (!item) return;
    if (state === "interrupted") {
      const cut = document.createElement("span");
      cut.className = "cut";
      cut.textContent = "— cut off";
      item.append(cut);
      item.dataset.cut = "true";
    }
    if (!item.querySelector(".text").textContent) item.remove();
    this.turns.delete(taskId);
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
