// The floor panel: who holds the floor, who bids for it, and a level meter per debater.

import { colorOf, esc, nameOf } from "./directory.js";

export class FloorPanel {
  constructor(holder, speakers) {
    this.holder = holder; // the "who has the floor" line
    this.speakers = speakers; // <ul> of debaters
    this.speaking = null; // the agent speaking now
    this.people = new Set(); // people speaking now
  }

  setAgents(names, speaking) {
    this.speakers.replaceChildren();
    for (const name of names) {
      const item = document.createElement("li");
      item.dataset.agent = name;
      item.style.setProperty("--color", colorOf(name));
      item.innerHTML = `<span class="name">${esc(nameOf(name))}</span><span class="state">listening</span>
        <meter min="0" max="1" value="0" aria-label="${esc(nameOf(name))} level"></meter>`;
      this.speakers.append(item);
    }
    this.speaking = speaking;
    this.people.clear();
    this.render();
  }

  personStarted(who) {
    this.people.add(who);
    this.render();
  }

  personStopped(who) {
    this.people.delete(who);
    this.render();
  }

  agentStarted(agent) {
    this.speaking = agent;
    this.render();
  }

  agentEnded(agent) {
    if (this.speaking === agent) this.speaking = null;
    this.progress(agent, "");
  }

  // A debater's progress note ("looking that up"): its status until its answer is heard.
  progress(agent, note) {
    const item = [...this.speakers.children].find((li) => li.dataset.agent === agent);
    if (item && (item.dataset.note || "") !== note) {
      item.dataset.note = note;
      this.render();
    }
  }

  bid(event) {
    const item = [...this.speakers.children].find((li) => li.dataset.agent === event.agent);
    if (!item) return;
    item.dataset.bidding = "true";
    item.querySelector(".state").textContent = event.granted ? "cutting in" : "wants the floor";
    clearTimeout(item.bidTimer);
    item.bidTimer = setTimeout(() => {
      item.dataset.bidding = "false";
      this.render();
    }, 1500);
  }

  render() {
    const people = [...this.people];
    let text = "Nobody is speaking";
    if (people.length && this.speaking) text = `${nameOf(people[0])} is cutting in on ${nameOf(this.speaking)}`;
    else if (people.length) text = `${nameOf(people[0])} has the floor`;
    else if (this.speaking) text = `${nameOf(this.speaking)} has the floor`;
    this.holder.textContent = text;
    for (const item of this.speakers.children) {
      const speaking = item.dataset.agent === this.speaking;
      item.dataset.speaking = String(speaking);
      if (item.dataset.bidding !== "true") {
        const state = item.dataset.note || (speaking ? "speaking" : "listening");
        item.querySelector(".state").textContent = state;
      }
    }
  }

  meters(level) {
    for (const item of this.speakers.children) {
      item.querySelector("meter").value = item.dataset.agent === this.speaking ? level : 0;
    }
  }
}
