// The dashboard's one Alpine component. Every read and change goes through the admin API
// (/api/...), signed in by the HttpOnly session cookie; changes carry the CSRF token.
"use strict";

const PAGES = ["Accounts", "API", "Monitor", "Stats", "Settings"];
const PROTOCOLS = ["openai", "anthropic", "gemini", "images", "audio", "mcp", "warmup"];
const LOG_PAGE = 100;
const KEEP_LOGS = 500;
// Settings the API page edits itself, or that are not single values.
const NOT_ON_SETTINGS_PAGE = new Set(["proxy.api_key", "proxy.auth_mode", "proxy.allow_lan_access",
  "models.custom_mapping", "zai.model_mapping", "upstreams"]);

function clientSnippets(base, key) {
  const host = base.replace(/\/$/, "");
  return {
    "OpenAI SDK": `from openai import OpenAI\nclient = OpenAI(base_url="${host}/v1", api_key="${key}")`,
    "Codex CLI": `# ~/.codex/config.toml\nmodel = "gemini-3-flash"\nmodel_provider = "agm"\n[model_providers.agm]\nname = "antigravity-gateway"\nbase_url = "${host}/v1"\nenv_key = "AGM_KEY"             # export AGM_KEY=${key}\nwire_api = "responses"\n[analytics]\nenabled = false`,
    "Claude Code": `export ANTHROPIC_BASE_URL=${host} ANTHROPIC_API_KEY=${key}\nexport CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\nclaude`,
    "Anthropic SDK": `from anthropic import Anthropic\nclient = Anthropic(base_url="${host}", api_key="${key}")`,
    "google-genai": `from google import genai\nfrom google.genai import types\nclient = genai.Client(api_key="${key}",\n    http_options=types.HttpOptions(base_url="${host}"))`,
    "Gemini CLI": `# ~/.gemini/settings.json\n{"security": {"auth": {"selectedType": "gemini-api-key"}},\n "privacy": {"usageStatisticsEnabled": false}, "telemetry": {"enabled": false}}\n\nGOOGLE_GEMINI_BASE_URL=${host} GEMINI_API_KEY=${key} gemini`,
  };
}

function errorText(data) {
  const error = data && data.error;
  return typeof error === "string" ? error : error && error.message;
}

// The time charts show a fixed window with a point per hour (or day), empty ones as zeros.
const STATS_WINDOWS = { hour: { step: 3600, count: 24 }, day: { step: 86400, count: 14 } };

function denseSeries(buckets, since, step, count) {
  const byTime = new Map(buckets.map(b => [Math.floor(Date.parse(b.key) / 1000 / step) * step, b]));
  return Array.from({ length: count }, (_, i) => {
    const at = since + i * step;
    const b = byTime.get(at) || {};
    return { at, requests: b.requests || 0, errors: b.errors || 0, input_tokens: b.input_tokens || 0,
      output_tokens: b.output_tokens || 0, cached_tokens: b.cached_tokens || 0 };
  });
}

function flatten(node, prefix, out) {
  for (const [name, value] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value && typeof value === "object" && !Array.isArray(value) && !NOT_ON_SETTINGS_PAGE.has(key)) {
      flatten(value, key, out);
    } else {
      out.push([key, value]);
    }
  }
  return out;
}

function fieldOf(key, value) {
  const secret = /(api_key|password|secret)$/.test(key);
  const type = typeof value === "boolean" ? "checkbox" : typeof value === "number" ? "number"
    : secret ? "password" : "text";
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  return { key, name: key.split(".").slice(1).join("."), value, type, text };
}

document.addEventListener("alpine:init", () => {
  Alpine.data("dashboard", () => ({
    pages: PAGES, protocols: PROTOCOLS, page: "Accounts",
    signedIn: false, password: "", signInError: "", csrf: "", toast: "", busy: false,
    accounts: [], showAdd: false, newToken: "", oauthUrl: "",
    status: {}, config: {}, apiKey: "", keyShown: false, client: "OpenAI SDK",
    ruleFrom: "", ruleTo: "", resolved: "", resolveTimer: null,
    logs: [], logTotal: 0, detail: null, live: false, source: null,
    filters: { q: "", protocol: "", model: "", account: "", errors: false },
    statsBy: "hour", byAccount: [], byModel: [], charts: [],
    edits: {}, settingsError: "", poller: null,

    // --- plumbing --------------------------------------------------------------------------
    async start() {
      const state = await (await fetch("session")).json();
      if (state.signed_in) { this.csrf = state.csrf; this.enter(); }
      const wanted = location.hash.slice(1);
      if (PAGES.includes(wanted)) this.page = wanted;
    },
    async api(method, path, body) {
      const headers = { "X-CSRF-Token": this.csrf };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch("/api/" + path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 401) { this.signedIn = false; throw new Error("signed out"); }
      const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : {};
      if (!response.ok) throw new Error(errorText(data) || `${method} /api/${path}: ${response.status}`);
      return data;
    },
    async attempt(work) {
      try { return await work(); } catch (err) { this.toast = err.message; return null; }
    },
    copy(text) { navigator.clipboard?.writeText(text).then(() => { this.toast = "copied"; }); },

    // --- sign-in ---------------------------------------------------------------------------
    async signIn() {
      this.signInError = "";
      const response = await fetch("login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ password: this.password }) });
      const data = await response.json();
      if (!response.ok) { this.signInError = data.error || "sign-in failed"; return; }
      this.password = ""; this.csrf = data.csrf; this.enter();
    },
    async signOut() {
      await fetch("logout", { method: "POST", headers: { "X-CSRF-Token": this.csrf } });
      this.source?.close(); clearInterval(this.poller);
      this.signedIn = false; this.csrf = "";
    },
    enter() {
      this.signedIn = true;
      this.go(this.page);
      this.poller = setInterval(() => this.poll(), 5000);
      this.follow();
    },
    go(name) {
      this.page = name; location.hash = name;
      ({ Accounts: () => this.loadAccounts(), API: () => this.loadApi(), Monitor: () => this.loadLogs(),
        Stats: () => this.loadStats(), Settings: () => this.loadConfig() })[name]();
    },
    poll() {
      if (this.page === "Accounts") this.loadAccounts();
      if (this.page === "API") this.loadStatus();
    },

    // --- accounts --------------------------------------------------------------------------
    async loadAccounts() {
      const data = await this.attempt(() => this.api("GET", "accounts"));
      if (data) this.accounts = data.accounts.map(a => ({ ...a, quota: a.quota || { models: [] } }));
    },
    accountSummary() {
      const usable = this.accounts.filter(a => a.enabled).length;
      return `${usable} enabled of ${this.accounts.length}`;
    },
    statusLines(a) {
      const lines = [];
      if (!a.enabled) lines.push({ kind: "bad", text: "disabled" + (a.disabled_reason ? ": " + a.disabled_reason : "") });
      if (a.verification_url) lines.push({ kind: "warn", text: "needs verification", url: a.verification_url });
      for (const c of a.cooldowns || []) {
        lines.push({ kind: "warn", text: `cooling for ${c.model} until ${this.clock(c.until * 1000)} (${c.reason})` });
      }
      if (!lines.length) lines.push({ kind: "good", text: "active" });
      return lines;
    },
    barClass(pct) { return pct < 20 ? "low" : pct < 50 ? "mid" : "high"; },
    resetText(reset) {
      const at = typeof reset === "number" ? reset * 1000 : Date.parse(reset);
      return at ? "resets in " + this.until(at) : "";
    },
    async setEnabled(a, on) {
      await this.attempt(() => this.api("POST", `accounts/${encodeURIComponent(a.id)}/${on ? "enable" : "disable"}`));
      this.loadAccounts();
    },
    async removeAccount(a) {
      if (!confirm(`Remove ${a.email}? Its refresh token is deleted from this machine.`)) return;
      await this.attempt(() => this.api("DELETE", `accounts/${encodeURIComponent(a.id)}`));
      this.loadAccounts();
    },
    async refreshAll() {
      this.busy = true; this.toast = "refreshing tokens and quota...";
      const done = await this.attempt(() => this.api("POST", "accounts/refresh"));
      this.busy = false;
      if (done) this.toast = "refreshed";
      this.loadAccounts();
    },
    async addByToken() {
      const token = this.newToken.trim();
      if (!token) { this.toast = "paste a refresh token first"; return; }
      const added = await this.attempt(() => this.api("POST", "accounts", { refresh_token: token }));
      if (added) { this.newToken = ""; this.toast = "added " + (added.email || "the account"); }
      this.loadAccounts();
    },
    async importFile(event) {
      const file = event.target.files[0];
      if (!file) return;
      let body;
      try { body = JSON.parse(await file.text()); } catch {
        this.toast = "that file is not JSON: use `agm accounts import` for token lists and state.vscdb"; return;
      }
      const result = await this.attempt(() => this.api("POST", "accounts/import", body));
      if (result) this.toast = (result.results || []).map(r => r.line || r.status + " " + r.email).join("; ") || "imported";
      event.target.value = "";
      this.loadAccounts();
    },
    async exportAccounts() {
      const data = await this.attempt(() => this.api("GET", "accounts/export"));
      if (!data) return;
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "agm-accounts.json" });
      link.click(); URL.revokeObjectURL(link.href);
    },
    async googleSignIn() {
      const started = await this.attempt(() => this.api("POST", "oauth/start"));
      if (!started) return;
      this.oauthUrl = started.url;
      window.open(started.url, "_blank", "noopener");
    },

    // --- API page --------------------------------------------------------------------------
    async loadApi() { this.loadStatus(); this.loadConfig(); this.loadKey(); },
    async loadStatus() {
      const data = await this.attempt(() => this.api("GET", "status"));
      if (data) this.status = data;
    },
    async loadKey() {
      const data = await this.attempt(() => this.api("GET", "key"));
      if (data) this.apiKey = data.api_key;
    },
    maskedKey() { return this.apiKey ? this.apiKey.slice(0, 5) + "…" + this.apiKey.slice(-4) : ""; },
    toggleKey() { this.keyShown = !this.keyShown; },
    async regenerateKey() {
      if (!confirm("Regenerate the API key? Every client must then use the new one.")) return;
      const data = await this.attempt(() => this.api("POST", "key/regenerate"));
      if (data) { this.apiKey = data.api_key; this.keyShown = true; this.toast = "new key in force"; }
    },
    clientNames() { return Object.keys(clientSnippets("", "")); },
    snippet() {
      const base = this.status.base_url || location.origin;
      return clientSnippets(base, this.keyShown ? this.apiKey : "YOUR_KEY")[this.client];
    },
    mappingRules() {
      const map = (this.config.models && this.config.models.custom_mapping) || {};
      return Object.entries(map).map(([from, to]) => ({ from, to }));
    },
    editRule(rule) { this.ruleFrom = rule.from; this.ruleTo = rule.to; this.resolveNow(); },
    async removeRule(rule) { await this.patch({ [`models.custom_mapping.${rule.from}`]: null }); },
    async saveRule() {
      if (!this.ruleFrom.trim() || !this.ruleTo.trim()) { this.toast = "both names are needed"; return; }
      if (await this.patch({ [`models.custom_mapping.${this.ruleFrom.trim()}`]: this.ruleTo.trim() })) {
        this.ruleFrom = ""; this.ruleTo = ""; this.resolved = "";
      }
    },
    resolveLater() { clearTimeout(this.resolveTimer); this.resolveTimer = setTimeout(() => this.resolveNow(), 250); },
    async resolveNow() {
      const name = this.ruleFrom.trim();
      if (!name || name.includes("*")) { this.resolved = ""; return; }
      const target = this.ruleTo.trim();
      const query = new URLSearchParams({ model: name, ...(target ? { target } : {}) });
      try {
        const data = await this.api("GET", "models/resolve?" + query);
        this.resolved = `${name} → ${data.mapped_model}`;
      } catch (err) { this.resolved = err.message; }
    },
    async patch(changes) {
      const result = await this.attempt(() => this.api("PATCH", "config", changes));
      if (!result) return false;
      this.toast = result.restart_required ? "saved; restart the gateway to apply it" : "saved and applied";
      await this.loadConfig();
      return true;
    },

    // --- monitor ---------------------------------------------------------------------------
    query(extra) {
      const q = new URLSearchParams({ limit: String(LOG_PAGE), ...extra });
      for (const [k, v] of Object.entries(this.filters)) if (v) q.set(k, k === "errors" ? "1" : v);
      return q;
    },
    async loadLogs() {
      const data = await this.attempt(() => this.api("GET", "logs?" + this.query({})));
      if (data) { this.logs = data.logs; this.logTotal = data.total; }
    },
    async moreLogs() {
      const last = this.logs[this.logs.length - 1];
      const data = await this.attempt(() => this.api("GET", "logs?" + this.query({ before: String(last.id) })));
      if (data) this.logs = this.logs.concat(data.logs);
    },
    matches(row) {
      const f = this.filters;
      const text = JSON.stringify([row.path, row.model, row.mapped_model, row.account_email, row.error]);
      return (!f.q || text.toLowerCase().includes(f.q.toLowerCase())) && (!f.protocol || row.protocol === f.protocol)
        && (!f.model || (row.model || "").includes(f.model)) && (!f.account || (row.account_email || "").includes(f.account))
        && (!f.errors || row.status >= 400);
    },
    follow() {
      this.source = new EventSource("/api/logs/stream");
      this.source.onopen = () => { this.live = true; };
      this.source.onerror = () => { this.live = false; };
      this.source.onmessage = (event) => {
        const row = JSON.parse(event.data);
        this.logTotal += 1;
        if (this.matches(row)) this.logs = [row, ...this.logs].slice(0, KEEP_LOGS);
      };
    },
    rowClass(row) { return (row.status >= 400 ? "failed " : "") + (this.detail && this.detail.id === row.id ? "selected" : ""); },
    async openLog(row) { this.detail = await this.attempt(() => this.api("GET", "logs/" + row.id)); },
    detailSummary() {
      const d = this.detail;
      return `${d.status} · ${d.protocol} · ${d.model} → ${d.mapped_model || "-"} · ${d.account_email || "no account"} · `
        + `${d.duration_ms} ms · ${d.attempts} attempt(s) · tokens ${d.input_tokens || 0} in / ${d.output_tokens || 0} out`;
    },
    pretty(text) {
      if (!text) return "(not kept)";
      try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
    },
    async clearLogs() {
      if (!confirm("Clear the whole request log?")) return;
      await this.attempt(() => this.api("DELETE", "logs"));
      this.logs = []; this.logTotal = 0; this.detail = null;
    },

    // --- stats -----------------------------------------------------------------------------
    setStatsBy(by) { this.statsBy = by; this.loadStats(); },
    async loadStats() {
      const { step, count } = STATS_WINDOWS[this.statsBy];
      const last = Math.floor(Date.now() / 1000 / step) * step;
      const since = last - step * (count - 1);
      const [time, accounts, models] = await Promise.all([`${this.statsBy}&since=${since}`, "account", "model"]
        .map(by => this.attempt(() => this.api("GET", "stats?by=" + by))));
      if (accounts) this.byAccount = accounts.buckets;
      if (models) this.byModel = models.buckets;
      if (time) this.drawCharts(denseSeries(time.buckets, since, step, count));
    },
    share(bucket, all) { return Math.round(100 * bucket.requests / Math.max(1, ...all.map(b => b.requests))); },
    tokens(b) { return `${b.input_tokens + b.output_tokens} tokens`; },
    drawCharts(rows) {
      this.charts.forEach(chart => chart.destroy());
      const width = Math.max(280, document.querySelector("#page-stats .card").clientWidth - 32);
      const column = name => rows.map(r => r[name]);
      const make = (id, series, names) => new uPlot({ width, height: 220, series: [{}, ...series] },
        [column("at"), ...names.map(column)], document.getElementById(id));
      this.charts = [
        make("chart-requests", [{ label: "requests", stroke: "#3b82f6" }, { label: "errors", stroke: "#ef4444" }],
          ["requests", "errors"]),
        make("chart-tokens", [{ label: "input", stroke: "#10b981" }, { label: "output", stroke: "#f59e0b" },
          { label: "cached", stroke: "#8b5cf6" }], ["input_tokens", "output_tokens", "cached_tokens"]),
      ];
    },

    // --- settings --------------------------------------------------------------------------
    async loadConfig() {
      const data = await this.attempt(() => this.api("GET", "config"));
      if (data) { this.config = data; this.edits = {}; }
    },
    settingSections() {
      const sections = new Map();
      for (const [key, value] of flatten(this.config, "", [])) {
        if (NOT_ON_SETTINGS_PAGE.has(key)) continue;
        const name = key.split(".")[0];
        if (!sections.has(name)) sections.set(name, []);
        sections.get(name).push(fieldOf(key, value));
      }
      return [...sections].map(([name, fields]) => ({ name, fields }));
    },
    edit(field, input) {
      if (field.type === "checkbox") this.edits[field.key] = input.checked;
      else if (field.type === "number") this.edits[field.key] = Number(input.value);
      else if (Array.isArray(field.value)) this.edits[field.key] = input.value.split(",").map(s => s.trim()).filter(Boolean);
      else this.edits[field.key] = input.value;
    },
    hasEdits() { return Object.keys(this.edits).length > 0; },
    async saveSettings() {
      this.settingsError = "";
      try {
        const result = await this.api("PATCH", "config", this.edits);
        this.toast = result.restart_required ? "saved; restart the gateway to apply it" : "saved and applied";
        await this.loadConfig();
      } catch (err) { this.settingsError = err.message; }
    },

    // --- formatting ------------------------------------------------------------------------
    clock(ms) { return ms ? new Date(ms).toLocaleString() : ""; },
    shortClock(ms) {
      const at = new Date(ms);
      return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
    },
    ago(seconds) {
      if (!seconds) return "never used";
      const s = Math.max(0, Date.now() / 1000 - seconds);
      return "used " + (s < 60 ? "just now" : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400
        ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`);
    },
    until(ms) {
      const s = Math.max(0, (ms - Date.now()) / 1000);
      return s < 3600 ? `${Math.ceil(s / 60)} min` : s < 86400 ? `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
        : `${Math.round(s / 86400)} d`;
    },
    duration(s) { return s === undefined ? "" : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`; },
  }));
});
