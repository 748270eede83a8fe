// Tailor's dashboard: one page per hash route, each drawn from the public
// API with the key kept in this tab's session storage. No data is stored
// anywhere else, and every value reaches the page as text (never as HTML).
'use strict';

(() => {
  const KEY = 'tailor.apiKey';
  // In AWS the stage name prefixes every path (/dev/dashboard/); the API
  // lives beside the dashboard.
  const API = location.pathname.replace(/\/dashboard(\/.*)?$/, '');
  const main = document.getElementById('main');
  let charts = [];
  let generation = 0; // bumped on every navigation; late answers are dropped

  // ---------- small helpers ----------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const fmtInt = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-GB'));
  const fmtPct = (x, d = 1) => (x === undefined || x === null ? '–' : (100 * x).toFixed(d) + '%');
  const fmtNum = (x, d = 3) => (x === undefined || x === null ? '–' : Number(x).toFixed(d));
  function fmtMoney(minor, currency) {
    if (minor === undefined || minor === null) return '–';
    try {
      const f = new Intl.NumberFormat('en-GB', { style: 'currency', currency: currency || 'GBP' });
      const digits = f.resolvedOptions().maximumFractionDigits;
      return f.format(Number(minor) / Math.pow(10, digits));
    } catch (e) {
      return (Number(minor) / 100).toFixed(2) + ' ' + (currency || '');
    }
  }
  function fmtDecimal(text, currency) {
    if (text === undefined || text === null) return '–';
    try {
      return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(Number(text));
    } catch (e) {
      return text + ' ' + currency;
    }
  }
  const fmtTime = (t) => (t ? String(t).replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(path, options = {}) {
    const headers = { Authorization: 'Bearer ' + sessionStorage.getItem(KEY) };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(API + path, {
      method: options.method || 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = { detail: text }; }
    }
    if (res.status === 401) {
      signOut('The API refused this key (' + ((data && data.detail) || 'unauthorized') + '). Paste a valid key.');
      throw new ApiError(401, data);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { status: res.status, data };
  }

  // message renders what an API error means for one part of a page: a
  // missing scope, an empty state, or a failure.
  function message(err, emptyText) {
    if (err instanceof ApiError && err.status === 403) {
      return h('div', { class: 'notice denied', role: 'status', dataset: { denied: '1' } },
        h('strong', {}, 'Not available with this key. '),
        err.message + '. Ask an administrator for a key with that scope.');
    }
    if (err instanceof ApiError && err.status === 404 && emptyText) {
      return h('div', { class: 'empty', role: 'status' }, emptyText);
    }
    return h('div', { class: 'notice', role: 'alert' }, 'Could not load: ' + err.message);
  }

  // section fills a card from an async loader and shows a clear message
  // when the loader fails, so one missing scope never breaks a page.
  function section(title, load, emptyText) {
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const card = h('section', { class: 'card' }, title ? h('h2', {}, title) : null, body);
    const gen = generation;
    Promise.resolve().then(load).then((content) => {
      if (gen !== generation) return;
      body.replaceChildren(...[].concat(content || []).flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    }).catch((err) => {
      if (gen !== generation) return;
      body.replaceChildren(message(err, emptyText));
    });
    return card;
  }

  function chart(id, option, cls) {
    const el = h('div', { class: 'chart ' + (cls || ''), id, role: 'img', 'aria-label': id });
    // Drawn once attached: ECharts needs the element's size.
    requestAnimationFrame(() => {
      if (!el.isConnected) return;
      const c = echarts.init(el, null, { renderer: 'canvas' });
      c.on('finished', () => {
        if (el.dataset.drawn) return;
        el.dataset.drawn = '1';
        performance.mark('chart-drawn:' + id);
      });
      c.setOption(Object.assign({ animation: false, grid: { left: 60, right: 60, top: 40, bottom: 50 } }, option));
      charts.push(c);
    });
    return el;
  }

  function table(headers, rows) {
    return h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, headers.map((x) => {
        const [label, num] = Array.isArray(x) ? x : [x, false];
        return h('th', { class: num ? 'num' : null }, label);
      }))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => {
        const num = Array.isArray(headers[i]) && headers[i][1];
        return h('td', { class: num ? 'num' : null }, c);
      }))))));
  }

  const kpi = (label, value) => h('div', { class: 'kpi' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const pill = (text, kind) => h('span', { class: 'pill ' + (kind || '') }, text);
  const link = (href, text) => h('a', { href }, text);
  const noRun = 'No segment run yet: run the nightly segmentation (the score function), or start the stack with make run DEMO=1.';

  async function latestRun() {
    const list = (await api('/v1/segments')).data;
    const run = (await api('/v1/segments/runs/' + encodeURIComponent(list.run_id))).data;
    return { list, run };
  }

  // ---------- pages ----------

  async function overview() {
    const out = [h('h1', {}, 'Overview')];
    const kpis = h('div', { class: 'kpis' });
    out.push(kpis);
    out.push(section('Events, buyers and revenue per day', async () => {
      const { run } = await latestRun();
      const a = run.activity || { days: [], revenue_minor: {} };
      kpis.replaceChildren(
        kpi('Customer records', fmtInt(run.scanned)),
        kpi('Buyers scored (' + run.currency + ')', fmtInt(run.customers)),
        kpi('Buyers, last 30 days', fmtInt(a.buyers_30d)),
        kpi('Buyers, last 90 days', fmtInt(a.buyers_90d)),
        ...Object.entries(a.revenue_minor || {}).sort().map(([cur, v]) => kpi('Revenue ' + cur, fmtMoney(v, cur))));
      const cur = run.currency;
      const days = a.days || [];
      return [
        h('p', { class: 'muted' }, 'The 90 days up to the latest run (as of ' + run.as_of + '), from every customer record: events, customers who bought, and their spend in ' + cur + '.'),
        chart('overview-daily', {
          tooltip: { trigger: 'axis' },
          legend: { data: ['Events', 'Buyers', 'Revenue ' + cur] },
          xAxis: { type: 'category', data: days.map((d) => d.date) },
          yAxis: [{ type: 'value', name: 'events, buyers' }, { type: 'value', name: cur }],
          series: [
            { name: 'Events', type: 'bar', data: days.map((d) => d.events || 0) },
            { name: 'Buyers', type: 'bar', data: days.map((d) => d.buyers) },
            { name: 'Revenue ' + cur, type: 'line', yAxisIndex: 1, showSymbol: false,
              data: days.map((d) => ((d.revenue_minor || {})[cur] || 0) / 100) },
          ],
        }, 'tall'),
      ];
    }, noRun));
    out.push(h('div', { class: 'grid' },
      section('Latest segmentation run', async () => {
        const { run } = await latestRun();
        const status = run.status === 'complete' ? pill('complete', 'good') : pill(run.status, 'warn');
        return h('dl', { class: 'props' },
          h('dt', {}, 'Run'), h('dd', {}, run.run_id),
          h('dt', {}, 'Status'), h('dd', {}, status),
          h('dt', {}, 'Finished'), h('dd', {}, fmtTime(run.finished_at)),
          h('dt', {}, 'Duration'), h('dd', {}, fmtInt(run.duration_ms) + ' ms'),
          h('dt', {}, 'Purchase model'), h('dd', {}, (run.model.purchase_model || {}).name || '–'),
          h('dt', {}, 'Scores written'), h('dd', {}, fmtInt(run.written) + ' (' + fmtInt(run.unchanged) + ' unchanged)'));
      }, noRun),
      section('Latest training run', async () => {
        const r = (await api('/v1/recommendations/runs?limit=1')).data;
        if (!r.runs.length) return h('div', { class: 'empty' }, 'No training run yet: run the nightly training (the train function), or make run DEMO=1.');
        const t = r.runs[0];
        return h('dl', { class: 'props' },
          h('dt', {}, 'As of'), h('dd', {}, fmtTime(t.as_of)),
          h('dt', {}, 'Status'), h('dd', {}, r.serving && r.serving.sha256 === t.snapshot.sha256 ? pill('serving', 'good') : pill('stored', 'warn')),
          h('dt', {}, 'Started'), h('dd', {}, fmtTime(t.started_at)),
          h('dt', {}, 'Duration'), h('dd', {}, fmtInt(t.duration_ms) + ' ms'),
          h('dt', {}, 'Customers read'), h('dd', {}, fmtInt(t.customers)),
          h('dt', {}, 'Items modelled'), h('dd', {}, fmtInt(t.items) + ' of ' + fmtInt(t.catalog_items)),
          h('dt', {}, 'Model size'), h('dd', {}, (t.model_bytes / 1048576).toFixed(1) + ' MiB'));
      })));
    return out;
  }

  async function segments() {
    const out = [h('h1', {}, 'Segments')];
    let data;
    const load = () => (data = data || latestRun());
    out.push(h('div', { class: 'grid' },
      section('RFM grid: customers by recency and frequency score', async () => {
        const { run } = await load();
        const cells = [];
        run.rf_grid.forEach((row, r) => row.forEach((n, f) => cells.push([f, r, n])));
        const max = Math.max(1, ...cells.map((c) => c[2]));
        return [h('p', { class: 'muted' }, 'Run ' + run.run_id + '; 5 is the most recent / most frequent.'),
          chart('segments-grid', {
            tooltip: { formatter: (p) => 'R ' + (p.value[1] + 1) + ', F ' + (p.value[0] + 1) + ': ' + p.value[2] + ' customers' },
            xAxis: { type: 'category', name: 'F', data: ['1', '2', '3', '4', '5'] },
            yAxis: { type: 'category', name: 'R', data: ['1', '2', '3', '4', '5'] },
            visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, show: false },
            series: [{ type: 'heatmap', data: cells, label: { show: true } }],
          })];
      }, noRun),
      section('Size and revenue share', async () => {
        const { list } = await load();
        const segs = list.segments.filter((s) => s.customers > 0);
        return chart('segments-share', {
          tooltip: { trigger: 'axis', valueFormatter: (v) => v + '%' },
          legend: { data: ['Customers', 'Revenue'] },
          grid: { left: 130, right: 30, top: 40, bottom: 30 },
          yAxis: { type: 'category', data: segs.map((s) => s.name), inverse: true },
          xAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
          series: [
            { name: 'Customers', type: 'bar', data: segs.map((s) => +(100 * s.share).toFixed(1)) },
            { name: 'Revenue', type: 'bar', data: segs.map((s) => +(100 * s.revenue_share).toFixed(1)) },
          ],
        });
      }, noRun)));
    out.push(section('Segments', async () => {
      const { list } = await load();
      return table(['Segment', ['Customers', 1], ['Share', 1], ['Revenue share', 1], ['Avg CLV 12m', 1], ['Avg churn probability', 1], ['Mean rating', 1], ['NPS', 1]],
        list.segments.map((s) => [s.customers > 0 ? link('#/segments/' + s.segment, s.name) : s.name, fmtInt(s.customers), fmtPct(s.share),
          fmtPct(s.revenue_share), fmtMoney(s.avg_clv_12m_minor, list.currency), s.customers ? fmtPct(s.avg_churn_probability) : '–',
          s.mean_rating === null ? '–' : s.mean_rating, s.nps === null ? '–' : s.nps]));
    }, noRun));
    out.push(section('Clusters', async () => {
      const { list } = await load();
      return table(['Cluster', ['Customers', 1], 'Description'], list.clusters.map((c) => [c.cluster, fmtInt(c.customers), c.description]));
    }, noRun));
    return out;
  }

  async function segmentMembers(slug) {
    const out = [h('h1', {}, 'Segment: ' + slug), h('p', {}, link('#/segments', '← all segments'))];
    const rows = h('tbody', {});
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More');
    let cursor = '';
    let currency = '';
    const loadPage = async () => {
      const q = '?limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      const page = (await api('/v1/segments/' + encodeURIComponent(slug) + '/customers' + q)).data;
      for (const m of page.customers) {
        const s = m.scores;
        currency = s.currency || currency;
        rows.append(h('tr', {}, h('td', {}, link('#/customer/' + encodeURIComponent(m.customer_id), m.customer_id)),
          h('td', {}, s.rfm_cell), h('td', { class: 'num' }, fmtPct(s.churn_probability)), h('td', {}, s.churn_risk),
          h('td', { class: 'num' }, fmtNum(s.expected_purchases_90d, 2)), h('td', { class: 'num' }, fmtMoney(s.clv_12m_minor, s.currency))));
      }
      cursor = page.next_cursor || '';
      more.hidden = !cursor;
    };
    more.addEventListener('click', () => loadPage().catch((e) => more.replaceWith(message(e))));
    out.push(section('Members', async () => {
      await loadPage();
      return [h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {},
        h('th', {}, 'Customer'), h('th', {}, 'RFM'), h('th', { class: 'num' }, 'Churn probability'), h('th', {}, 'Churn risk'),
        h('th', { class: 'num' }, 'Expected purchases 90d'), h('th', { class: 'num' }, 'CLV 12m'))), rows)), more];
    }, noRun));
    return out;
  }

  async function customer(id) {
    const out = [h('h1', {}, 'Customer')];
    const input = h('input', { name: 'id', placeholder: 'customer id', value: id || '', required: true });
    out.push(h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); location.hash = '#/customer/' + encodeURIComponent(input.value.trim()); } },
      h('div', {}, h('label', {}, 'Customer id'), input), h('button', { type: 'submit' }, 'Open')));
    if (!id) {
      out.push(h('div', { class: 'empty' }, 'Enter a customer id, or open one from a segment\'s member list.'));
      return out;
    }
    const path = '/v1/customers/' + encodeURIComponent(id);
    let rec;
    const load = () => (rec = rec || api(path).then((r) => r.data));
    out.push(h('div', { class: 'grid' },
      section('Profile and consent', async () => {
        const c = await load();
        const profile = Object.entries(c.profile || {});
        return [h('dl', { class: 'props' },
          h('dt', {}, 'Id'), h('dd', {}, c.customer_id),
          ...(profile.length ? profile.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { field: k } }, String(v))]) : [h('dt', {}, 'Profile'), h('dd', { class: 'muted' }, 'none given')]),
          h('dt', {}, 'Tags'), h('dd', {}, (c.tags || []).length ? c.tags.join(', ') : '–'),
          ...Object.entries(c.consent || {}).flatMap(([k, v]) => [h('dt', {}, 'Consent: ' + k), h('dd', {}, v.granted ? pill('granted', 'good') : pill('withdrawn', 'bad'))])),
        c.pii_masked ? h('p', { class: 'muted', id: 'pii-masked' }, 'Personal data is masked: this key lacks pii:read.') : null];
      }, 'No customer ' + id + '.'),
      section('Scores', async () => {
        const c = await load();
        const s = c.scores;
        if (!s) return h('div', { class: 'empty' }, 'Not scored yet: the nightly segmentation scores customers with a purchase.');
        return h('dl', { class: 'props' },
          h('dt', {}, 'Segment'), h('dd', {}, link('#/segments/' + s.segment, s.segment)),
          h('dt', {}, 'RFM cell'), h('dd', {}, s.rfm_cell),
          h('dt', {}, 'Churn probability'), h('dd', {}, fmtPct(s.churn_probability) + ' (' + s.churn_risk + ')'),
          h('dt', {}, 'Expected purchases 90d'), h('dd', {}, fmtNum(s.expected_purchases_90d, 2)),
          h('dt', {}, 'CLV 12 months'), h('dd', {}, fmtMoney(s.clv_12m_minor, s.currency)),
          h('dt', {}, 'Run'), h('dd', {}, s.run_id));
      }, 'No customer ' + id + '.')));
    out.push(h('div', { class: 'grid' },
      section('Aggregates', async () => {
        const a = (await load()).aggregates || {};
        const aff = {};
        for (const month of Object.values(a.category_affinity || {})) for (const [cat, n] of Object.entries(month)) aff[cat] = (aff[cat] || 0) + n;
        const cats = Object.entries(aff).sort((x, y) => y[1] - x[1]).slice(0, 10);
        return [h('dl', { class: 'props' },
          h('dt', {}, 'Events'), h('dd', {}, fmtInt(a.events)),
          h('dt', {}, 'Orders'), h('dd', {}, fmtInt(a.orders)),
          h('dt', {}, 'Revenue'), h('dd', {}, Object.entries(a.revenue || {}).map(([cur, v]) => fmtDecimal(v, cur)).join(', ') || '–'),
          h('dt', {}, 'First seen'), h('dd', {}, fmtTime(a.first_seen)),
          h('dt', {}, 'Last purchase'), h('dd', {}, fmtTime(a.last_purchase_at))),
        cats.length ? chart('customer-affinity', {
          tooltip: {}, grid: { left: 120, right: 20, top: 20, bottom: 30 },
          yAxis: { type: 'category', data: cats.map((c) => c[0]), inverse: true }, xAxis: { type: 'value', name: 'weight' },
          series: [{ type: 'bar', data: cats.map((c) => c[1]) }],
        }) : null];
      }, 'No customer ' + id + '.'),
      section('Recommendations now', async () => {
        const r = (await api(path + '/recommendations?limit=10&explain=true')).data;
        return table(['Item', 'Title', ['Score', 1], 'Why'], r.items.map((it) => [it.item_id, it.title || '', fmtNum(it.score, 3),
          it.reason ? it.reason.text : (it.backfill ? 'popular (backfill)' : '')]));
      }, 'No customer ' + id + '.')));
    out.push(section('Recent events', async () => {
      const ev = (await api(path + '/events?limit=50')).data.events;
      if (!ev.length) return h('div', { class: 'empty' }, 'No events.');
      return h('ul', { class: 'timeline' }, ev.map((e) => h('li', {}, h('span', { class: 'when' }, fmtTime(e.timestamp)),
        h('span', {}, e.type + (e.item_id ? ' · item ' + e.item_id : '') + (e.quantity ? ' × ' + e.quantity : '') +
          (e.price ? ' · ' + fmtDecimal(e.price, e.currency) : '') + (e.order_id ? ' · order ' + e.order_id : '')))));
    }, 'No customer ' + id + '.'));
    return out;
  }

  async function recommendations() {
    const out = [h('h1', {}, 'Recommendations')];
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const windowSel = h('select', { name: 'window' }, ['1d', '7d', '30d'].map((w) => h('option', { value: w, selected: (params.get('window') || '7d') === w }, w)));
    const category = h('input', { name: 'category', placeholder: 'e.g. Lighting', value: params.get('category') || '' });
    const item = h('input', { name: 'item', placeholder: 'item id', value: params.get('item') || '' });
    out.push(h('form', { class: 'inline', onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams({ window: windowSel.value });
      if (category.value.trim()) q.set('category', category.value.trim());
      if (item.value.trim()) q.set('item', item.value.trim());
      location.hash = '#/recommendations?' + q;
    } }, h('div', {}, h('label', {}, 'Window'), windowSel), h('div', {}, h('label', {}, 'Category'), category),
      h('div', {}, h('label', {}, 'Similar to item'), item), h('button', { type: 'submit' }, 'Show')));
    const q = new URLSearchParams({ window: windowSel.value, limit: '10' });
    if (category.value) q.set('category', category.value);
    out.push(h('div', { class: 'grid' },
      section('Popular now (' + windowSel.value + (category.value ? ', ' + category.value : '') + ')', async () => {
        const p = (await api('/v1/popular?' + q)).data;
        if (!p.items.length) return h('div', { class: 'empty' }, 'Nothing popular in this window yet: popularity comes from the last training run.');
        return [chart('reco-popular', {
          tooltip: {}, grid: { left: 220, right: 20, top: 20, bottom: 30 },
          yAxis: { type: 'category', inverse: true, data: p.items.map((it) => (it.title || it.item_id).slice(0, 32)) },
          xAxis: { type: 'value', name: 'score' }, series: [{ type: 'bar', data: p.items.map((it) => it.score) }],
        }), table(['Item', 'Title', 'Price'], p.items.map((it) => [link('#/recommendations?item=' + encodeURIComponent(it.item_id), it.item_id), it.title || '', fmtDecimal(it.price, it.currency)]))];
      }),
      section('Similar items' + (item.value ? ' to ' + item.value : ''), async () => {
        if (!item.value) return h('div', { class: 'empty' }, 'Choose an item (type its id above, or click one in the popular list).');
        const s = (await api('/v1/items/' + encodeURIComponent(item.value) + '/similar?limit=10&explain=true')).data;
        if (!s.items.length) return h('div', { class: 'empty' }, 'No similar items for ' + item.value + '.');
        return table(['Item', 'Title', ['Score', 1], 'Why'], s.items.map((it) => [it.item_id, it.title || '', fmtNum(it.score, 3), it.reason ? it.reason.text : '']));
      }, 'There is no item ' + item.value + '.')));
    out.push(section('Training runs and offline evaluation', async () => {
      const r = (await api('/v1/recommendations/runs?limit=10')).data;
      if (!r.runs.length) return h('div', { class: 'empty' }, 'No training run yet: run the nightly training (the train function), or make run DEMO=1.');
      const parts = [table(['As of', ['Customers', 1], ['Interactions', 1], ['Items', 1], ['Head (EASE)', 1], ['Model MiB', 1], ['Duration ms', 1]],
        r.runs.map((t) => [fmtTime(t.as_of), fmtInt(t.customers), fmtInt(t.interactions), fmtInt(t.items), fmtInt(t.head),
          (t.model_bytes / 1048576).toFixed(1), fmtInt(t.duration_ms)]))];
      const ev = r.runs[0].evaluation;
      if (ev && ev.models) {
        parts.push(h('h2', {}, 'Offline evaluation of the latest run'));
        parts.push(h('p', { class: 'muted' }, 'A model trained as of ' + fmtTime(ev.cutoff).slice(0, 10) + ' (' + ev.holdout_days +
          ' days before the run) ranked ' + ev.k + ' items for each of the ' + fmtInt(ev.customers) +
          ' customers who bought before and after that day; relevant are the items they bought since.'));
        parts.push(table(['Model', ['Precision@10', 1], ['Recall@10', 1], ['NDCG@10', 1], ['MAP@10', 1], ['Hit rate@10', 1], ['Coverage', 1]],
          ev.models.map((m) => [m.model, fmtNum(m['precision@10'], 4), fmtNum(m['recall@10'], 4), fmtNum(m['ndcg@10'], 4),
            fmtNum(m['map@10'], 4), fmtNum(m['hit_rate@10'], 4), fmtPct(m.coverage)])));
      } else {
        parts.push(h('div', { class: 'empty' }, 'The latest training run stored no offline evaluation (none ran, or no customer bought both before and during its holdout).'));
      }
      return parts;
    }));
    return out;
  }

  async function campaigns() {
    const out = [h('h1', {}, 'Campaigns'), h('p', {}, link('#/campaigns/new', '+ New campaign from a segment'))];
    out.push(section('', async () => {
      const list = (await api('/v1/campaigns?limit=50')).data.campaigns;
      if (!list.length) return h('div', { class: 'empty' }, 'No campaigns yet: create one from a segment.');
      const kind = { running: 'good', completed: '', draft: 'warn', stopped: 'bad' };
      return table(['Campaign', 'Status', 'Channel', 'Audience', ['Members', 1], ['Holdout', 1], 'Launched as of'],
        list.map((c) => [link('#/campaigns/' + encodeURIComponent(c.campaign_id), c.name), pill(c.status, kind[c.status]), c.channel,
          audienceText(c.audience), c.launch ? fmtInt(c.launch.members) : '–', fmtPct(c.holdout, 0), c.launch ? c.launch.as_of : '–']));
    }));
    return out;
  }

  function audienceText(a) {
    if (!a) return '';
    const parts = [];
    if (a.segments) parts.push('segments ' + a.segments.join(', '));
    if (a.churn_risk) parts.push('churn risk ' + a.churn_risk.join(', '));
    if (a.clusters) parts.push('clusters ' + a.clusters.join(', '));
    if (a.last_purchase_before) parts.push('last purchase before ' + a.last_purchase_before);
    if (a.last_purchase_after) parts.push('last purchase after ' + a.last_purchase_after);
    if (a.customer_ids) parts.push(a.customer_ids.length + ' listed customers');
    return parts.join('; ') || 'everyone scored';
  }

  async function newCampaign() {
    const out = [h('h1', {}, 'New campaign'), h('p', {}, link('#/campaigns', '← all campaigns'))];
    out.push(section('From a segment', async () => {
      const list = (await api('/v1/segments')).data;
      const segs = list.segments.filter((s) => s.customers > 0);
      const f = {
        name: h('input', { name: 'name', required: true, maxlength: 200, value: 'Win back ' + new Date().toISOString().slice(0, 10) }),
        segment: h('select', { name: 'segment' }, segs.map((s) => h('option', { value: s.segment }, s.name + ' (' + s.customers + ')'))),
        channel: h('select', { name: 'channel' }, ['email', 'sms', 'push', 'onsite'].map((c) => h('option', { value: c }, c))),
        holdout: h('input', { name: 'holdout', type: 'number', min: '0.05', max: '0.5', step: '0.05', value: '0.2' }),
        days: h('input', { name: 'attribution_days', type: 'number', min: '1', max: '90', value: '14' }),
        cost: h('input', { name: 'cost', placeholder: 'optional, e.g. 250.00' }),
        asOf: h('input', { name: 'as_of', type: 'date', value: list.as_of }),
      };
      const status = h('p', { role: 'status' });
      const submit = h('button', { type: 'submit' }, 'Create and launch');
      const form = h('form', { id: 'campaign-form', onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        try {
          const body = { name: f.name.value, channel: f.channel.value, audience: { segments: [f.segment.value] },
            holdout: Number(f.holdout.value), attribution_days: Number(f.days.value), currency: list.currency, goal: 'purchase' };
          if (f.cost.value.trim()) body.cost = f.cost.value.trim();
          status.textContent = 'Creating…';
          const c = (await api('/v1/campaigns', { method: 'POST', body })).data;
          status.textContent = 'Launching…';
          let r;
          do {
            r = await api('/v1/campaigns/' + encodeURIComponent(c.campaign_id) + '/launch', { method: 'POST', body: { as_of: f.asOf.value } });
          } while (r.status === 202);
          // A first, provisional report, so the campaign's page has results
          // to show at once.
          status.textContent = 'Computing the first report…';
          await api('/v1/campaigns/' + encodeURIComponent(c.campaign_id) + '/report', { method: 'POST', body: {} });
          location.hash = '#/campaigns/' + encodeURIComponent(c.campaign_id);
        } catch (err) {
          status.replaceChildren(message(err));
          submit.disabled = false;
        }
      } },
      h('div', { class: 'fields' },
        h('div', {}, h('label', {}, 'Name'), f.name), h('div', {}, h('label', {}, 'Segment (latest run, ' + list.run_id + ')'), f.segment),
        h('div', {}, h('label', {}, 'Channel'), f.channel), h('div', {}, h('label', {}, 'Holdout share'), f.holdout),
        h('div', {}, h('label', {}, 'Attribution days'), f.days), h('div', {}, h('label', {}, 'Cost (' + list.currency + ')'), f.cost),
        h('div', {}, h('label', {}, 'Launch as of'), f.asOf)),
      submit, status);
      return form;
    }, noRun));
    return out;
  }

  async function campaignDetail(id) {
    const path = '/v1/campaigns/' + encodeURIComponent(id);
    const out = [h('h1', {}, 'Campaign'), h('p', {}, link('#/campaigns', '← all campaigns'))];
    let loaded;
    const load = () => (loaded = loaded || api(path).then((r) => r.data));
    const head = section('', async () => {
      const c = await load();
      const actions = [];
      const act = (label, p, body) => h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
        e.target.disabled = true;
        try { await api(path + p, { method: 'POST', body }); route(); } catch (err) { e.target.replaceWith(message(err)); }
      } }, label);
      if (c.status === 'draft') actions.push(act('Launch', '/launch', {}));
      if (c.status === 'running') actions.push(act('Stop', '/stop', {}));
      if (c.status !== 'draft') actions.push(act('Compute report now', '/report', {}));
      return [h('h2', {}, c.name), h('dl', { class: 'props' },
        h('dt', {}, 'Status'), h('dd', {}, c.status), h('dt', {}, 'Channel'), h('dd', {}, c.channel),
        h('dt', {}, 'Audience'), h('dd', {}, audienceText(c.audience)),
        h('dt', {}, 'Holdout'), h('dd', {}, fmtPct(c.holdout, 0)),
        h('dt', {}, 'Window'), h('dd', {}, c.launch ? c.launch.as_of + ' to ' + (c.window_end || '…') : 'not launched'),
        h('dt', {}, 'Members'), h('dd', {}, c.launch ? fmtInt(c.launch.treatment) + ' treatment, ' + fmtInt(c.launch.holdout) + ' holdout' : '–')),
      h('p', {}, actions)];
    }, 'No campaign ' + id + '.');
    out.push(head);
    out.push(section('Results', async () => {
      if ((await load()).status === 'draft') return h('div', { class: 'empty' }, 'Launch the campaign to see results.');
      const r = (await api(path + '/report')).data;
      const s = r.stats;
      const cur = r.currency;
      const conv = s.conversion;
      const srm = s.srm;
      const rev = s.revenue_per_member;
      const cup = s.revenue_per_member_cuped;
      const box = (x) => [x.low, x.low, x.value, x.high, x.high];
      return [
        h('div', { class: 'kpis' },
          kpi('Conversion, treatment', fmtPct(conv.treatment.rate.value)),
          kpi('Conversion, holdout', fmtPct(conv.holdout.rate.value)),
          kpi('Difference', fmtPct(conv.difference.value) + (conv.significant ? ' ✓' : '')),
          kpi('p-value', fmtNum(conv.p_value, 3)),
          kpi('SRM', srm.mismatch ? 'mismatch' : 'ok (p=' + fmtNum(srm.p_value, 3) + ')'),
          kpi('ROI', s.roi && s.roi.value !== null ? fmtPct(s.roi.value, 0) : 'no cost given')),
        srm.mismatch ? h('div', { class: 'notice denied' }, 'Sample ratio mismatch: the holdout share differs from the one set (p=' + fmtNum(srm.p_value, 4) + '). Do not trust these results.') : null,
        h('div', { class: 'grid' },
          chart('campaign-conversion', {
            title: { text: 'Conversion with 95% intervals', textStyle: { fontSize: 13 } },
            tooltip: {},
            xAxis: { type: 'category', data: ['Treatment', 'Holdout'] },
            yAxis: { type: 'value', axisLabel: { formatter: (v) => (100 * v).toFixed(0) + '%' } },
            series: [{ type: 'boxplot', data: [box(conv.treatment.rate), box(conv.holdout.rate)] }],
          }),
          chart('campaign-funnel', {
            title: { text: 'Treatment funnel', textStyle: { fontSize: 13 } },
            tooltip: {},
            series: [{ type: 'funnel', sort: 'none', top: 40, bottom: 10, data: [
              { name: 'members', value: r.funnel.members },
              { name: 'delivered', value: r.funnel.delivered.count },
              { name: 'opened', value: r.funnel.opened.count },
              { name: 'clicked', value: r.funnel.clicked.count },
              { name: 'converted', value: conv.treatment.conversions }] }],
          })),
        h('h2', {}, 'Revenue per member (' + cur + ')'),
        table(['Estimate', ['Treatment', 1], ['Holdout', 1], ['Difference', 1], ['95% interval', 1], ['p-value', 1]], [
          ['Raw', fmtMoney(rev.treatment.mean_minor, cur), fmtMoney(rev.holdout.mean_minor, cur), fmtMoney(rev.difference_minor.value, cur),
            fmtMoney(rev.difference_minor.low, cur) + ' to ' + fmtMoney(rev.difference_minor.high, cur), fmtNum(rev.p_value, 3)],
          cup ? ['CUPED' + (cup.variance_reduction > 0 ? ' (variance −' + fmtPct(cup.variance_reduction, 0) + ')' : ''), fmtMoney(cup.treatment.mean_minor, cur), fmtMoney(cup.holdout.mean_minor, cur),
            fmtMoney(cup.difference_minor.value, cur), fmtMoney(cup.difference_minor.low, cur) + ' to ' + fmtMoney(cup.difference_minor.high, cur), fmtNum(cup.p_value, 3)]
            : ['CUPED', '–', '–', '–', '–', '–']]),
        h('h2', {}, 'Satisfaction'),
        table(['Arm', ['Respondents', 1], ['Mean rating', 1], ['NPS', 1]], ['treatment', 'holdout'].map((arm) => {
          const x = (r.satisfaction || {})[arm] || {};
          return [arm, fmtInt(x.respondents), x.mean_rating === null || x.mean_rating === undefined ? '–' : x.mean_rating, x.nps === null || x.nps === undefined ? '–' : x.nps];
        })),
        h('p', { class: 'muted' }, 'Report as of ' + fmtTime(r.as_of) + (r.provisional ? ' (provisional: the attribution window is still open)' : '') + '.'),
      ];
    }, 'No report yet: launch the campaign, then compute its report.'));
    return out;
  }

  async function models() {
    const out = [h('h1', {}, 'Models')];
    out.push(section('Purchase model choice (latest segmentation run)', async () => {
      const { run } = await latestRun();
      const m = run.model;
      const sel = m.model_selection;
      return [h('p', {}, 'Run ' + run.run_id + ' uses ', h('strong', {}, (m.purchase_model || {}).name || 'bgnbd'),
        ' for churn probability (no purchase in the next ' + m.churn_horizon_days + ' days), expected purchases and CLV.'),
      sel ? [h('p', { class: 'muted' }, 'Rule: ' + sel.rule),
        table(['Model', ['Brier score', 1], 'Chosen'], sel.candidates.map((c) => [c.model, c.error ? c.error : fmtNum(c.brier, 5), c.model === sel.model ? '✓' : '']))]
        : h('p', { class: 'muted' }, 'The model was set by configuration.'),
      table(['Churn band', ['Customers', 1]], Object.entries(m.churn_risk || {}).map(([k, v]) => [k, fmtInt(v)]))];
    }, noRun));
    out.push(section('Backtest: predicted against what happened', async () => {
      const b = (await api('/v1/segments/backtest')).data;
      const rep = b.report;
      const ch = rep.churn;
      const rel = (ch.reliability || []).filter((x) => x.customers > 0);
      const dec = (rep.purchases.deciles || []);
      const val = (rep.value.deciles || []);
      return [
        h('p', { class: 'muted' }, 'Calibrated on purchases up to ' + b.calibration_end + ', scored against ' + b.calibration_end + ' to ' + b.holdout_end +
          ' (' + fmtInt(rep.customers) + ' customers, model ' + rep.model + ').'),
        h('div', { class: 'kpis' },
          kpi('Churn AUC', fmtNum(ch.auc, 4)),
          kpi('Brier vs base rate', fmtPct(ch.skill) + ' better'),
          kpi('Base rate (no purchase)', fmtPct(ch.base_rate)),
          kpi('Purchases predicted / actual', fmtInt(Math.round(rep.purchases.predicted_total)) + ' / ' + fmtInt(Math.round(rep.purchases.actual_total))),
          kpi('Spend rank correlation', fmtNum(rep.value.spearman, 3))),
        h('div', { class: 'grid' },
          chart('models-reliability', {
            title: { text: 'Reliability of the churn probability', textStyle: { fontSize: 13 } },
            tooltip: { trigger: 'axis' }, legend: { data: ['Observed', 'Perfect'], top: 24 },
            xAxis: { type: 'value', min: 0, max: 1, name: 'predicted' }, yAxis: { type: 'value', min: 0, max: 1, name: 'observed' },
            grid: { left: 60, right: 30, top: 60, bottom: 50 },
            series: [
              { name: 'Observed', type: 'line', data: rel.map((x) => [x.mean_predicted, x.observed_rate]), symbolSize: 8 },
              { name: 'Perfect', type: 'line', data: [[0, 0], [1, 1]], showSymbol: false, lineStyle: { type: 'dashed' } }],
          }),
          chart('models-deciles', {
            title: { text: 'Purchases per customer by decile of prediction', textStyle: { fontSize: 13 } },
            tooltip: { trigger: 'axis' }, legend: { data: ['Predicted', 'Actual'], top: 24 },
            grid: { left: 60, right: 30, top: 60, bottom: 50 },
            xAxis: { type: 'category', name: 'decile', data: dec.map((d) => d.decile) }, yAxis: { type: 'value' },
            series: [{ name: 'Predicted', type: 'bar', data: dec.map((d) => d.mean_predicted) }, { name: 'Actual', type: 'bar', data: dec.map((d) => d.mean_actual) }],
          })),
        h('h2', {}, 'Spend by decile of predicted value'),
        table([['Decile', 1], ['Customers', 1], ['Mean predicted', 1], ['Mean actual', 1]],
          val.map((d) => [d.decile, fmtInt(d.customers), fmtNum(d.mean_predicted, 2), fmtNum(d.mean_actual, 2)])),
      ];
    }, 'No backtest yet: invoke the segment function with phase "backtest" (make run DEMO=1 runs one), or run tailor backtest offline.'));
    return out;
  }

  // ---------- routing and sign-in ----------

  const pages = {
    overview: () => overview(),
    segments: (arg) => (arg ? segmentMembers(arg) : segments()),
    customer: (arg) => customer(arg),
    recommendations: () => recommendations(),
    campaigns: (arg) => (arg === 'new' ? newCampaign() : arg ? campaignDetail(arg) : campaigns()),
    models: () => models(),
  };

  function signOut(reason) {
    sessionStorage.removeItem(KEY);
    showSignIn(reason);
  }

  function showSignIn(reason) {
    generation++;
    disposeCharts();
    document.getElementById('nav').hidden = true;
    document.getElementById('signout').hidden = true;
    main.replaceChildren(document.getElementById('signin-template').content.cloneNode(true));
    document.getElementById('signin-error').textContent = reason || '';
    document.getElementById('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = document.getElementById('key').value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      route();
    });
  }

  function disposeCharts() {
    for (const c of charts) c.dispose();
    charts = [];
  }

  async function route() {
    if (!sessionStorage.getItem(KEY)) return showSignIn();
    const [name, arg] = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').map(decodeURIComponent);
    const page = pages[name] ? name : 'overview';
    generation++;
    disposeCharts();
    document.getElementById('nav').hidden = false;
    document.getElementById('signout').hidden = false;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
    main.dataset.page = page;
    main.replaceChildren(...[].concat(await pages[page](arg)).flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  }

  document.getElementById('signout').addEventListener('click', () => signOut(''));
  window.addEventListener('hashchange', route);
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  route();
})();
