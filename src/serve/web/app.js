// The page of `optipfair serve`. Plain browser JavaScript, no framework and nothing fetched from
// elsewhere: it calls the server's JSON API, follows long work through server-sent events, and
// asks the server for figures (drawn from the kept results, so changing a choice never reruns
// the model).
'use strict';

const COMPONENTS = ['mlp_output', 'attention_output', 'gate_proj', 'up_proj', 'down_proj', 'input_norm'];
const $ = (id) => document.getElementById(id);

const state = {
  presets: null,
  modelInfo: {},  // id -> /api/model-info answer
  analysis: null, // {id, result}
  prune: null,
  compare: null,
};

// ---------- small helpers ----------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
  if (message) box.scrollIntoView({block: 'nearest'});
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  };
  const res = await fetch(path, init);
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    throw new Error(`the server answered ${res.status} without JSON`);
  }
  if (!res.ok) throw new Error(data && data.error ? data.error : `the server answered ${res.status}`);
  return data;
}

function number(v, digits = 6) {
  // The JSON writes a value that is not a number (one pair has no spread) as the string "NaN".
  if (v === null || v === undefined || v === 'NaN' || (typeof v === 'number' && isNaN(v))) return '—';
  if (typeof v !== 'number') return String(v);
  if (!isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

function percent(v) {
  return v === null || v === undefined || !isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(2)} %`;
}

// A table of [label, value, extra attributes for the value cell] rows, or of header + rows.
function fillTable(table, header, rows) {
  table.replaceChildren();
  if (header) table.append(el('tr', {}, ...header.map((h) => el('th', {}, h))));
  for (const row of rows) {
    const tr = el('tr');
    row.forEach((cell, i) => {
      const attrs = cell && typeof cell === 'object' && !(cell instanceof Node) ? cell.attrs : null;
      const text = attrs ? cell.text : cell;
      tr.append(el(i === 0 && !header ? 'th' : 'td', attrs || {}, text));
    });
    table.append(tr);
  }
}

function fillSelect(select, options, keep) {
  const old = select.value;
  select.replaceChildren(...options.map(([value, label]) => el('option', {value}, label)));
  if (keep && options.some(([v]) => v === old)) select.value = old;
}

// ---------- pairs ----------

function parsePairLines(text, what) {
  const pairs = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let p;
    try {
      p = JSON.parse(line);
    } catch (e) {
      throw new Error(`${what}, line ${i + 1}, is not JSON: write {"prompt1": "…", "prompt2": "…"}`);
    }
    if (!p || typeof p.prompt1 !== 'string' || typeof p.prompt2 !== 'string')
      throw new Error(`${what}, line ${i + 1}, needs "prompt1" and "prompt2" strings`);
    pairs.push({prompt1: p.prompt1, prompt2: p.prompt2, category: typeof p.category === 'string' ? p.category : ''});
  });
  return pairs;
}

function pairLines(pairs) {
  return pairs.map((p) => JSON.stringify({prompt1: p.prompt1, prompt2: p.prompt2, category: p.category || ''})).join('\n');
}

function currentPairs() {
  const first = {prompt1: $('prompt1').value.trim(), prompt2: $('prompt2').value.trim(), category: $('category').value.trim()};
  const pairs = [];
  if (first.prompt1 || first.prompt2) {
    if (!first.prompt1 || !first.prompt2) throw new Error('the first pair needs both prompts');
    pairs.push(first);
  }
  pairs.push(...parsePairLines($('more-pairs').value, 'More pairs'));
  if (!pairs.length) throw new Error('give at least one pair of prompts');
  return pairs;
}

function setPairs(pairs) {
  const [first, ...rest] = pairs;
  $('prompt1').value = first ? first.prompt1 : '';
  $('prompt2').value = first ? first.prompt2 : '';
  $('category').value = first ? first.category || '' : '';
  $('more-pairs').value = pairLines(rest);
  if (rest.length) $('more-pairs-box').open = true;
  countLines();
}

function countLines() {
  const count = (text) => text.split('\n').filter((l) => l.trim()).length;
  $('more-count').textContent = count($('more-pairs').value);
  $('held-count').textContent = count($('held-out').value);
}

function applyPreset() {
  const [kind, name] = $('preset').value.split(':');
  if (kind === 'scenario') {
    const s = state.presets.scenarios.find((x) => x.name === name);
    setPairs([s]);
  } else if (kind === 'category') {
    setPairs(state.presets.categories[name]);
  } else if (kind === 'all') {
    setPairs(Object.values(state.presets.categories).flat());
  }
}

async function addTemplatePairs() {
  showError('');
  try {
    const data = await api('/api/pairs/template', {template: $('template').value, category: $('template-category').value});
    const existing = $('more-pairs').value.trim();
    const pairs = data.pairs;
    if (!$('prompt1').value.trim() && !$('prompt2').value.trim()) setPairs(pairs);
    else {
      $('more-pairs').value = (existing ? existing + '\n' : '') + pairLines(pairs);
      $('more-pairs-box').open = true;
      countLines();
    }
  } catch (e) {
    showError(e.message);
  }
}

// ---------- jobs ----------

// Submits `body` to `path`, shows progress in `progressEl`, resolves with {id, result}; rejects
// with the job's error. `cancelButton` asks the server to stop it.
function runJob(path, body, progressEl, cancelButton) {
  return new Promise((resolve, reject) => {
    let source = null;
    const finish = async (snap) => {
      if (source) source.close();
      cancelButton.hidden = true;
      cancelButton.onclick = null;
      if (snap.state === 'done') {
        try {
          const full = await api(`/api/jobs/${snap.id}`);
          progressEl.textContent = full.cached ? 'done (from the cache)' : `done in ${full.seconds.toFixed(1)} s`;
          resolve({id: snap.id, result: full.result});
        } catch (e) {
          reject(e);
        }
      } else if (snap.state === 'cancelled') {
        progressEl.textContent = 'cancelled';
        reject(new Error('the work was cancelled'));
      } else {
        progressEl.textContent = 'failed';
        reject(new Error(snap.error || 'the work failed'));
      }
    };
    const show = (snap) => {
      if (snap.state === 'queued') progressEl.textContent = 'waiting for a free worker…';
      else if (snap.state === 'running') {
        const step = snap.total > 0 ? ` ${snap.done}/${snap.total}` : '';
        progressEl.textContent = `${snap.stage || 'starting'}${step} · ${snap.seconds.toFixed(1)} s`;
      }
    };
    api(path, body).then((snap) => {
      if (snap.state !== 'queued' && snap.state !== 'running') return finish(snap);
      show(snap);
      cancelButton.hidden = false;
      cancelButton.onclick = () => api(`/api/jobs/${snap.id}/cancel`, {}).catch((e) => showError(e.message));
      source = new EventSource(`/api/jobs/${snap.id}/events`);
      source.onmessage = (event) => {
        const s = JSON.parse(event.data);
        if (s.state === 'queued' || s.state === 'running') show(s);
        else finish(s);
      };
      source.onerror = () => {
        // The stream ends after the last state; if it broke earlier, ask once more.
        if (source.readyState === EventSource.CLOSED) api(`/api/jobs/${snap.id}`).then(finish, reject);
      };
    }, (e) => {
      progressEl.textContent = '';
      reject(e);
    });
  });
}

function figureUrl(jobId, name, params, format) {
  const q = new URLSearchParams(params);
  return `/api/jobs/${jobId}/figure/${name}.${format}?${q}`;
}

// Loads a figure into `figure` (a <figure> with a .figure-body), with PNG and SVG download links.
// The element's data-state becomes "loaded" or "failed", which the browser test waits for.
async function showFigure(figure, jobId, name, params) {
  const body = figure.querySelector('.figure-body');
  figure.dataset.state = 'loading';
  const token = (figure.dataset.request = `${jobId}/${name}?${new URLSearchParams(params)}`);
  try {
    const res = await fetch(figureUrl(jobId, name, params, 'png'));
    if (!res.ok) {
      let message = `the figure could not be drawn (${res.status})`;
      try {
        message = (await res.json()).error || message;
      } catch (e) { /* keep the status */ }
      throw new Error(message);
    }
    const blob = await res.blob();
    if (figure.dataset.request !== token) return;  // a newer choice replaced this one
    const img = el('img', {alt: figure.querySelector('figcaption').textContent});
    img.src = URL.createObjectURL(blob);
    await img.decode();
    // The SVG in a tab of its own, to see a figure at full size.
    const full = el('a', {href: figureUrl(jobId, name, params, 'svg'), target: '_blank', rel: 'noopener', title: 'open at full size'}, img);
    const links = el('div', {class: 'downloads'},
      el('a', {href: figureUrl(jobId, name, {...params, download: 1}, 'png'), download: `${name}.png`}, 'PNG'),
      el('a', {href: figureUrl(jobId, name, {...params, download: 1}, 'svg'), download: `${name}.svg`}, 'SVG'));
    body.replaceChildren(full, links);
    if (figure.blobUrl) URL.revokeObjectURL(figure.blobUrl);
    figure.blobUrl = img.src;
    figure.dataset.state = 'loaded';
  } catch (e) {
    if (figure.dataset.request !== token) return;
    body.replaceChildren(el('p', {class: 'figure-error'}, e.message));
    figure.dataset.state = 'failed';
  }
}

// ---------- the analysis tab ----------

function analysisFigures() {
  const a = state.analysis;
  if (!a) return;
  const component = $('component').value;
  const layer = $('layer').value;
  const pair = $('pair').value;
  showFigure($('figure-mean_diff'), a.id, 'mean_diff', {component, pair});
  const onePair = pair === 'all' ? '0' : pair;
  showFigure($('figure-heatmap'), a.id, 'heatmap', {component, layer, pair: onePair});
  showFigure($('figure-pca'), a.id, 'pca', {component, layer, pair: onePair, highlight: $('highlight').checked ? 1 : 0});
  analysisTables();
}

function analysisTables() {
  const r = state.analysis.result;
  const component = $('component').value;
  const layer = Number($('layer').value);
  const pairIndex = $('pair').value === 'all' ? 0 : Number($('pair').value);
  const metrics = r.bias_metrics[`pair_${pairIndex + 1}`];
  const m = metrics.metrics;
  const overall = m.overall_metrics || {};
  const comp = (m.component_metrics || {})[component] || {};
  const layerKey = `${component}_layer_${layer}`;
  const layerStats = (m.layer_metrics || {})[layerKey] || {};
  const value = (v, id) => ({text: number(v), attrs: {id, 'data-value': String(v)}});
  fillTable($('pair-metrics'), null, [
    ['overall mean_difference', value(overall.mean_difference, 'metric-mean-difference')],
    ['overall max_difference', number(overall.max_difference)],
    [`${component} mean_difference`, number(comp.mean_difference)],
    [`${component} layer_with_max_diff`, (comp.progression_metrics || {}).layer_with_max_diff || '—'],
    [`${layerKey} mean_difference`, number(layerStats.mean_difference)],
    ['tokens compared', metrics.alignment ? metrics.alignment.description : '—'],
  ]);
  // Each token of prompt 1 shaded by its mean |difference| at this layer (rows of an alignment when
  // the prompts' lengths differ).
  const tok = r.tokens[pairIndex];
  const diffs = tok && tok.per_token ? tok.per_token[layerKey] : null;
  if (!diffs) $('per-token').textContent = 'token-level activations are kept for the first pairs only';
  else {
    const max = Math.max(...diffs.map((v) => (typeof v === 'number' ? v : 0)), 1e-30);
    const labels = diffs.length === tok.tokens1.length ? tok.tokens1 : diffs.map((_, i) => `row ${i + 1}`);
    $('per-token').replaceChildren(...diffs.map((v, i) => {
      const other = diffs.length === tok.tokens2.length ? ` / ${tok.tokens2[i]}` : '';
      const span = el('span', {class: 'token', title: `${labels[i]}${other}: ${number(v)}`}, labels[i]);
      span.style.setProperty('--weight', (typeof v === 'number' ? v / max : 0).toFixed(3));
      return span;
    }));
  }

  const all = r.summary.all_pairs;
  const allComp = (all.component_metrics || {})[component] || {};
  fillTable($('summary-metrics'), null, [
    ['pairs', all.num_pairs],
    ['mean difference', number(all.mean_difference)],
    ['std over pairs', number(all.std_over_pairs)],
    [`${component} mean`, number(allComp.mean_difference)],
    [`${component} layer with max`, allComp.layer_with_max_diff || '—'],
  ]);
  const cats = Object.entries(r.summary.per_category || {});
  fillTable($('category-metrics'), ['category', 'pairs', 'mean difference'],
    cats.map(([name, c]) => [name, c.num_pairs, number(c.mean_difference)]));
  const neurons = (r.top_neurons || {})[`layer_${layer}`] || [];
  fillTable($('top-neurons'), ['neuron', 'bias score'], neurons.map((n) => [n.neuron, number(n.score)]));
}

function showAnalysis(job) {
  state.analysis = job;
  const r = job.result;
  const layers = r.summary.num_layers;
  fillSelect($('layer'), Array.from({length: layers}, (_, i) => [String(i), `layer ${i}`]), true);
  const pairOptions = [['all', 'all pairs (mean difference)']];
  r.tokens.forEach((t, i) => {
    const p = r.bias_metrics[`pair_${i + 1}`];
    if (t.kept_for_figures) pairOptions.push([String(i), `${i + 1}: ${p.prompt1.slice(0, 50)}`]);
  });
  if (pairOptions.length > 1 && r.tokens.length === 1) pairOptions.shift();
  fillSelect($('pair'), pairOptions, true);
  $('analyze-json').href = `/api/jobs/${job.id}/result.json`;
  $('analyze-results').hidden = false;
  analysisFigures();
}

async function runAnalysis() {
  showError('');
  try {
    const job = await runJob('/api/analyze', {model: $('model').value, pairs: currentPairs(), fast: $('fast').checked},
      $('analyze-progress'), $('analyze-cancel'));
    showAnalysis(job);
  } catch (e) {
    showError(e.message);
  }
}

// ---------- the fairness-pruning tab ----------

function pruneLayers() {
  const text = $('prune-layers').value.trim();
  if (!text || text === 'all') return undefined;
  return text.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 0) throw new Error(`"${s.trim()}" is not a layer number`);
    return n;
  });
}

function showPrune(job) {
  state.prune = job;
  const r = job.result;
  $('prune-headline').textContent = r.headline;
  const rows = [
    ['parameters', `${r.parameters_before.toLocaleString()} → ${r.parameters_after.toLocaleString()} (${number(r.parameters_removed_percent, 3)} % removed)`],
    [`used pairs (${r.pairs})`, {text: `${number(r.mean_difference_before)} → ${number(r.mean_difference_after)} (${percent(r.mean_difference_change_percent)})`, attrs: {id: 'prune-used'}}],
  ];
  if (r.held_out) rows.push([`held-out pairs (${r.held_out.pairs})`, {text: `${number(r.held_out.mean_difference_before)} → ${number(r.held_out.mean_difference_after)} (${percent(r.held_out.change_percent)})`, attrs: {id: 'prune-held-out'}}]);
  else rows.push(['held-out pairs', 'none given: add some to see whether the cut generalises']);
  fillTable($('prune-summary'), null, rows);
  $('prune-json').href = `/api/jobs/${job.id}/result.json`;
  $('prune-report').href = `/api/jobs/${job.id}/report.html`;
  const beams = r.continuations || [];
  const greedy = r.greedy_continuations || [];
  const table = $('continuations');
  table.replaceChildren(el('tr', {}, el('th', {}, 'prompt'), el('th', {}, 'decoding'), el('th', {}, 'original'), el('th', {}, 'pruned')));
  const addRows = (list, label) => list.forEach((c) => table.append(el('tr', {},
    el('td', {class: 'prompt'}, c.prompt), el('td', {}, label), el('td', {class: 'before'}, c.before), el('td', {class: 'after'}, c.after))));
  addRows(greedy, 'greedy');
  addRows(beams, 'beam (notebook)');
  if (!greedy.length && !beams.length) table.append(el('tr', {}, el('td', {colspan: 4}, 'no continuations asked for')));
  $('save-status').textContent = '';
  $('prune-results').hidden = false;
  showFigure($('figure-comparison'), job.id, 'comparison', {component: $('prune-component').value});
}

async function runPrune() {
  showError('');
  try {
    const body = {
      model: $('model').value,
      pairs: currentPairs(),
      held_out_pairs: parsePairLines($('held-out').value, 'Held-out pairs'),
      method: $('prune-method').value,
      pruning_percentage: Number($('prune-percentage').value),
      bias_weight: Number($('prune-bias-weight').value),
      mode: $('prune-mode').value,
      generate: $('prune-generate').checked,
      fast: $('fast').checked,
    };
    const layers = pruneLayers();
    if (layers) body.layers = layers;
    showPrune(await runJob('/api/fair-prune', body, $('prune-progress'), $('prune-cancel')));
  } catch (e) {
    showError(e.message);
  }
}

async function savePruned(event) {
  event.preventDefault();
  if (!state.prune) return;
  showError('');
  $('save-status').textContent = 'saving…';
  try {
    const r = await api(`/api/jobs/${state.prune.id}/save`, {name: $('save-name').value.trim(), format: $('save-format').value});
    $('save-status').textContent = `saved as ${r.saved}; it is now in the model list`;
    await loadModels();
  } catch (e) {
    $('save-status').textContent = '';
    showError(e.message);
  }
}

// ---------- the comparison tab ----------

function showCompare(job) {
  state.compare = job;
  const r = job.result;
  fillTable($('compare-summary'), ['', 'model A', 'model B', 'change'], [
    ['model', r.model_a, r.model_b, ''],
    [`mean difference (${r.pairs} pairs)`, number(r.mean_difference_a), number(r.mean_difference_b), percent(r.change_percent)],
  ]);
  fillTable($('compare-categories'), ['category', 'model A', 'model B', 'change'],
    Object.entries(r.per_category || {}).map(([name, c]) => [name, number(c.a), number(c.b), percent(c.change_percent)]));
  $('compare-json').href = `/api/jobs/${job.id}/result.json`;
  $('compare-results').hidden = false;
  showFigure($('figure-compare'), job.id, 'comparison', {component: $('compare-component').value});
}

async function runCompare() {
  showError('');
  try {
    const body = {model_a: $('compare-a').value, model_b: $('compare-b').value, pairs: currentPairs(), fast: $('fast').checked};
    showCompare(await runJob('/api/compare', body, $('compare-progress'), $('compare-cancel')));
  } catch (e) {
    showError(e.message);
  }
}

// ---------- models and start-up ----------

async function showModelInfo() {
  const id = $('model').value;
  if (!id) return;
  $('model-info').textContent = 'loading the model…';
  try {
    const info = state.modelInfo[id] || (state.modelInfo[id] = await api(`/api/model-info?model=${encodeURIComponent(id)}`));
    if ($('model').value !== id) return;
    $('model-info').textContent = `${info.num_layers} layers · hidden ${info.hidden_size} · ${info.parameters.toLocaleString()} parameters`;
  } catch (e) {
    $('model-info').textContent = '';
    showError(e.message);
  }
}

async function loadModels() {
  const data = await api('/api/models');
  const options = data.models.map((m) => [m.id, `${m.label} (${m.source})`]);
  if (!options.length) throw new Error('the server offers no models: start it with --model-path or --models-dir');
  for (const id of ['model', 'compare-a', 'compare-b']) fillSelect($(id), options, true);
  if (options.length > 1 && $('compare-b').value === $('compare-a').value) $('compare-b').value = options[1][0];
}

async function loadPresets() {
  state.presets = await api('/api/presets');
  const options = state.presets.scenarios.map((s) => [`scenario:${s.name}`, `Scenario: ${s.name} (as in the Space)`]);
  for (const [name, pairs] of Object.entries(state.presets.categories))
    options.push([`category:${name}`, `Default set: ${name} (${pairs.length} pairs)`]);
  const total = Object.values(state.presets.categories).reduce((n, p) => n + p.length, 0);
  options.push([`all:`, `Default set: every category (${total} pairs)`]);
  fillSelect($('preset'), options);
  fillSelect($('template-category'), Object.keys(state.presets.attributes).map((n) => [n, n]));
  applyPreset();
}

function switchTab(name) {
  document.querySelectorAll('.tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === name));
  document.querySelectorAll('.tab-panel').forEach((p) => { p.hidden = p.id !== `tab-${name}`; });
}

async function start() {
  const componentOptions = COMPONENTS.map((c) => [c, c]);
  for (const id of ['component', 'prune-component', 'compare-component']) fillSelect($(id), componentOptions);
  document.querySelectorAll('.tabs button').forEach((b) => b.addEventListener('click', () => switchTab(b.dataset.tab)));
  $('preset').addEventListener('change', applyPreset);
  $('template-run').addEventListener('click', addTemplatePairs);
  $('more-pairs').addEventListener('input', countLines);
  $('held-out').addEventListener('input', countLines);
  $('model').addEventListener('change', showModelInfo);
  $('analyze-run').addEventListener('click', runAnalysis);
  for (const id of ['component', 'layer', 'pair', 'highlight']) $(id).addEventListener('change', analysisFigures);
  $('prune-run').addEventListener('click', runPrune);
  $('prune-component').addEventListener('change', () => state.prune &&
    showFigure($('figure-comparison'), state.prune.id, 'comparison', {component: $('prune-component').value}));
  $('save-form').addEventListener('submit', savePruned);
  $('compare-run').addEventListener('click', runCompare);
  $('compare-component').addEventListener('change', () => state.compare &&
    showFigure($('figure-compare'), state.compare.id, 'comparison', {component: $('compare-component').value}));
  try {
    await Promise.all([loadModels(), loadPresets()]);
    document.body.dataset.ready = 'true';
    showModelInfo();
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener('DOMContentLoaded', start);
