// The recipe editor (templates/recipe.html): the form and the YAML kept in step both ways, the problems
// listed as the user types, and "save as". The server parses and writes all YAML (/api/recipes/...); this
// file only sends what changed and puts the answers in place.
"use strict";

(function () {
  const DEBOUNCE_MS = 400;
  const editor = document.querySelector(".recipe-editor");
  if (!editor) return;
  const source = editor.dataset.source;
  const yamlBox = document.getElementById("recipe-yaml");
  const form = document.getElementById("recipe-form");
  const status = document.getElementById("recipe-status");
  const problemList = document.getElementById("recipe-problems");
  const resolved = document.getElementById("recipe-resolved");
  let queue = Promise.resolve(); // edits run one after another, each on the YAML the previous one left

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({ error: response.statusText }));
    return { ok: response.ok, answer };
  }

  function debounced(action) {
    let timer = null;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => action(...args), DEBOUNCE_MS);
    };
  }

  function listProblems(list, problems) {
    list.replaceChildren(
      ...problems.map((problem) => {
        const item = document.createElement("li");
        item.className = "problem-line";
        item.textContent = problem.message || problem;
        return item;
      })
    );
  }

  function markFields(problems) {
    form.querySelectorAll(".form-field.bad").forEach((field) => {
      field.classList.remove("bad");
      field.querySelector(".field-problems").textContent = "";
    });
    for (const problem of problems) {
      const field = problem.key && fieldOf(problem.key);
      if (!field) continue;
      field.classList.add("bad");
      field.querySelector(".field-problems").textContent = problem.message;
    }
  }

  // The field of a key path, or of its nearest parent key that has one (data.train.0 -> data.train).
  function fieldOf(key) {
    for (let parts = key.split("."); parts.length; parts.pop()) {
      const field = form.querySelector(`.form-field[data-key="${CSS.escape(parts.join("."))}"]`);
      if (field) return field;
    }
    return null;
  }

  async function validate() {
    status.textContent = "checking…";
    const { ok, answer } = await post("/api/recipes/validate", { yaml: yamlBox.value, source_name: source });
    if (!ok) {
      status.textContent = answer.error || "the check failed";
      return;
    }
    const problems = answer.problems || [];
    status.textContent = answer.ok ? "valid: tuneforge train would accept it" : answer.title;
    status.className = answer.ok ? "valid" : "invalid";
    listProblems(problemList, problems);
    markFields(problems);
    resolved.textContent = answer.ok ? answer.resolved : "";
  }

  async function refreshForm() {
    const { ok, answer } = await post("/api/recipes/form", { yaml: yamlBox.value, source_name: source });
    if (!ok) return; // the YAML does not parse: the form keeps its last state, the problems say why
    const open = new Set([...form.querySelectorAll("details[open]")].map((d) => d.dataset.section));
    form.innerHTML = answer.html;
    form.querySelectorAll("details").forEach((d) => {
      if (open.has(d.dataset.section)) d.open = true;
    });
    await validate();
  }

  function fieldEdit(input) {
    return {
      yaml: yamlBox.value,
      source_name: source,
      key: input.name,
      kind: input.dataset.kind,
      value: input.type === "checkbox" ? null : input.value,
      checked: input.type === "checkbox" ? input.checked : null,
    };
  }

  function sendEdit(input) {
    queue = queue.then(async () => {
      const { ok, answer } = await post("/api/recipes/edit", fieldEdit(input));
      const field = input.closest(".form-field");
      if (!ok) {
        field.classList.add("bad");
        field.querySelector(".field-problems").textContent = answer.error;
        return;
      }
      yamlBox.value = answer.yaml;
      field.classList.toggle("set", input.type === "checkbox" || input.value.trim() !== "");
      await ("switch" in input.dataset ? refreshForm() : validate());
    });
  }

  const typed = new Map(); // one debounce per input, so typing in two fields loses neither
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.name || input.type === "checkbox" || input.tagName === "SELECT") return;
    if (!typed.has(input.name)) typed.set(input.name, debounced(sendEdit));
    typed.get(input.name)(input);
  });
  form.addEventListener("change", (event) => {
    const input = event.target;
    if (input.name && (input.type === "checkbox" || input.tagName === "SELECT")) sendEdit(input);
  });

  const yamlTyped = debounced(() => {
    queue = queue.then(refreshForm);
  });
  yamlBox.addEventListener("input", yamlTyped);

  document.getElementById("save-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("save-result");
    const name = document.getElementById("save-name").value.trim();
    const { ok, answer } = await post("/api/recipes/save", { name, yaml: yamlBox.value, source_name: source });
    result.replaceChildren();
    if (ok) {
      const link = document.createElement("a");
      link.href = answer.url;
      link.textContent = `saved ${answer.path}: open ${answer.name}`;
      result.append(link);
      return;
    }
    const title = document.createElement("p");
    title.className = "invalid";
    title.textContent = answer.error + (answer.fix ? ` (${answer.fix})` : "");
    const list = document.createElement("ul");
    listProblems(list, answer.problems || []);
    result.append(title, list);
  });

  document.querySelector(".profile-picker select").addEventListener("change", (event) => {
    event.target.form.submit();
  });

  validate();
})();
