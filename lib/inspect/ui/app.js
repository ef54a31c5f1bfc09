// troupe's web view: plain DOM (every value goes in as text, never as HTML), SVG for the actor
// graph and cytoscape for statecharts. Reads the inspection API of the server that served it.
'use strict'

const params = new URLSearchParams(location.search)
const token = document.querySelector('meta[name="troupe-token"]').content || params.get('token') || ''
const auth = token && !document.querySelector('meta[name="troupe-token"]').content ? `token=${encodeURIComponent(token)}` : ''

/** superjson's wire form → plain values (Dates as ISO text, Maps and Sets as objects and arrays). */
function plain(wire) {
  return wire && typeof wire === 'object' && 'json' in wire ? wire.json : wire
}

async function api(path, query = {}) {
  const url = new URL(path, location.origin)
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v)
  if (auth) url.searchParams.set('token', token)
  const res = await fetch(url, { headers: token ? { 'x-troupe-token': token } : {} })
  const body = plain(await res.json())
  if (!res.ok) throw new Error(body && body.error ? body.error : `${path}: ${res.status}`)
  return body
}

async function act(path, body) {
  const res = await fetch(path + (auth ? `?${auth}` : ''), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-troupe-token': token },
    body: JSON.stringify(body),
  })
  const out = plain(await res.json())
  if (!res.ok) throw new Error(out && out.error ? out.error : `${path}: ${res.status}`)
  return out
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn)
    else if (v !== undefined) node.setAttribute(k, v)
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c)
  return node
}

const time = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : '')

function msgLink(id) {
  return el('a', { class: 'msg', 'data-message': id, text: id, on: { click: () => openMessage(id) } })
}

// ── actors and graph ───────────────────────────────────────────────────────

let knownTypes = []

/** A duration for people: tenths of a second under 10 s, then seconds, minutes, hours. */
function age(ms) {
  const s = Math.max(0, ms) / 1000
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 120) return `${Math.round(s)} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}

/** The backlog of a type: messages parked for a throttle or a slot, and how long the oldest has waited. */
function parkedText(r) {
  if (r.parked === undefined) return ''
  return r.parked > 0 && r.oldestParkedAt !== undefined ? `${r.parked}, oldest ${age(Date.now() - r.oldestParkedAt)}` : String(r.parked)
}

function renderActors(rows) {
  const tbody = document.querySelector('#actors tbody')
  tbody.replaceChildren(
    ...rows.map((r) =>
      el('tr', { 'data-actor': r.type },
        el('td', {}, r.type, r.kind ? el('span', { class: 'kind', text: ` ${r.kind}` }) : undefined), el('td', { class: 'num', text: String(r.instances) }),
        el('td', { class: 'num', text: r.processed === undefined ? '' : String(r.processed) }), el('td', { class: 'num', text: r.retried === undefined ? '' : String(r.retried) }),
        el('td', { class: 'num', text: String(r.dead) }), el('td', { class: 'num', text: r.queued === undefined ? '' : String(r.queued) }),
        el('td', { class: 'num', 'data-col': 'running', text: r.running === undefined ? '' : String(r.running) }),
        el('td', { class: 'num', 'data-col': 'parked', text: parkedText(r) }),
        el('td', { class: 'num', 'data-col': 'iterator-age', text: r.iteratorAgeMs === undefined ? '' : age(r.iteratorAgeMs) }),
        el('td', { text: r.paused ? 'all' : r.pausedKeys.join(', ') })),
    ),
  )
  const types = rows.filter((r) => r.kind !== 'stateless' && !r.type.startsWith('troupe.')).map((r) => r.type)
  if (types.join() !== knownTypes.join()) {
    knownTypes = types
    const select = document.getElementById('state-type')
    const current = select.value
    select.replaceChildren(...types.map((t) => el('option', { value: t, text: t })))
    if (types.includes(current)) select.value = current
    else if (types.length) {
      select.value = types.includes('pageStats') ? 'pageStats' : types[0]
      loadState()
    }
  }
}

/** Whether cytoscape loaded; if not, the server's reason (an optional peer not installed) goes where the drawing would. */
function canDraw(containerId) {
  if (typeof cytoscape === 'function') return true
  document.getElementById(containerId).textContent = window.troupeMissing ?? 'the drawing library did not load'
  return false
}

// The actor graph is drawn at its natural size in SVG, never scaled to fit its box: a row of
// nodes per step of the traffic (sources at the top), the text at a size people read, the box
// as tall as the rows need and scrolling sideways when the graph is wider than the page.
const SVG_NS = 'http://www.w3.org/2000/svg'
const G = {
  nodeH: 40,
  /** Between a row of nodes and the row of edge labels under it. */
  gap: 12,
  labelH: 20,
  pad: 16,
  /** Between two things side by side in a row. */
  sep: 18,
  /** Width an edge passing through a row takes. */
  lane: 10,
  /** Text sizes in px, as style.css sets them (names, and counts and edge labels): measured to size the boxes. */
  font: 13,
  small: 12,
  loop: 28,
}
const ROW = G.nodeH + 2 * G.gap + G.labelH

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn)
    else if (v !== undefined) node.setAttribute(k, String(v))
  }
  for (const c of children) if (c) node.append(c)
  return node
}

let measurer
function textWidth(text, px, weight = 400) {
  measurer ??= document.createElement('canvas').getContext('2d')
  measurer.font = `${weight} ${px}px ${getComputedStyle(document.body).fontFamily}`
  return Math.ceil(measurer.measureText(text).width)
}

const OUTSIDE = '(outside)'
const edgeLabel = (e) => (e.perSecond > 0 ? `${e.count} · ${e.perSecond}/s` : String(e.count))

/** Ranks (longest path from the sources, cycles broken where the search meets them), rows and x positions. */
function layoutGraph(g) {
  const ids = []
  const counts = new Map()
  const add = (id, count) => {
    if (!counts.has(id)) ids.push(id)
    counts.set(id, (counts.get(id) ?? 0) + count)
  }
  if (g.edges.some((e) => e.from === OUTSIDE)) add(OUTSIDE, 0)
  for (const n of g.nodes) add(n.type, n.count)
  for (const e of g.edges) add(e.from, 0), add(e.to, 0)
  const loops = g.edges.filter((e) => e.from === e.to)
  const links = g.edges.filter((e) => e.from !== e.to)

  // Cycles: an edge the depth-first search finds back to a node on its path is ranked reversed.
  const out = new Map(ids.map((id) => [id, []]))
  for (const e of links) out.get(e.from).push(e)
  const reversed = new Set()
  const state = new Map()
  const visit = (id) => {
    state.set(id, 'open')
    for (const e of out.get(id)) {
      if (state.get(e.to) === 'open') reversed.add(e)
      else if (!state.has(e.to)) visit(e.to)
    }
    state.set(id, 'done')
  }
  const hasIn = new Set(links.map((e) => e.to))
  for (const id of ids) if (!hasIn.has(id) && !state.has(id)) visit(id)
  for (const id of ids) if (!state.has(id)) visit(id)
  const arcs = links.map((e) => (reversed.has(e) ? { e, up: e.to, down: e.from, back: true } : { e, up: e.from, down: e.to, back: false }))

  const rank = new Map(ids.map((id) => [id, 0]))
  for (let changed = true, i = 0; changed && i <= ids.length; i++) {
    changed = false
    for (const a of arcs) if (rank.get(a.down) < rank.get(a.up) + 1) (rank.set(a.down, rank.get(a.up) + 1), (changed = true))
  }
  const ranks = Math.max(0, ...rank.values()) + 1

  // Grid rows: nodes on even rows, edge labels on odd ones; an edge passes every row between its ends.
  const rows = Array.from({ length: 2 * ranks - 1 }, () => [])
  const items = new Map()
  for (const id of ids) {
    const loop = loops.find((e) => e.from === id)
    const name = id === OUTSIDE ? 'outside' : id
    const count = id === OUTSIDE ? '' : `${counts.get(id)} received`
    const nodeW = Math.max(96, textWidth(name, G.font, 600), textWidth(count, G.small)) + 24
    const extra = loop ? G.loop + textWidth(edgeLabel(loop), G.small) + 14 : 0
    const item = { id, name, count, nodeW, w: nodeW + 2 * extra, loop, row: 2 * rank.get(id), up: [], down: [] }
    items.set(id, item)
    rows[item.row].push(item)
  }
  const chains = arcs.map((a, n) => {
    const from = items.get(a.up)
    const to = items.get(a.down)
    const points = []
    let prev = from
    for (let row = from.row + 1; row < to.row; row++) {
      const labelled = row === to.row - 1
      const text = labelled ? edgeLabel(a.e) : ''
      const dummy = { id: `edge ${n} ${row}`, row, w: labelled ? textWidth(text, G.small) + 12 : G.lane, text, up: [prev], down: [] }
      prev.down.push(dummy)
      rows[row].push(dummy)
      points.push(dummy)
      prev = dummy
    }
    prev.down.push(to)
    to.up.push(prev)
    return { ...a, from, to, points }
  })

  // Order within rows: a few sweeps placing each thing at the mean place of its neighbours.
  const sweep = (list, side) => {
    list.forEach((it, i) => (it.order = i))
    const key = (it) => (it[side].length ? it[side].reduce((s, n) => s + n.order, 0) / it[side].length : it.order)
    list.sort((a, b) => key(a) - key(b) || a.order - b.order)
    list.forEach((it, i) => (it.order = i))
  }
  rows.forEach((r) => r.forEach((it, i) => (it.order = i)))
  for (let i = 0; i < 4; i++) {
    for (let r = 1; r < rows.length; r++) sweep(rows[r], 'up')
    for (let r = rows.length - 2; r >= 0; r--) sweep(rows[r], 'down')
  }

  // Places: each node under the mean of its neighbours on the side the sweep comes from, each
  // edge label between both ends, then spread so nothing overlaps.
  const spread = (list, want) => {
    const gapOf = (i) => (list[i - 1].w + list[i].w) / 2 + G.sep
    const right = list.map((_, i) => want[i])
    for (let i = 1; i < list.length; i++) right[i] = Math.max(right[i], right[i - 1] + gapOf(i))
    const left = list.map((_, i) => want[i])
    for (let i = list.length - 2; i >= 0; i--) left[i] = Math.min(left[i], left[i + 1] - gapOf(i + 1))
    list.forEach((it, i) => (it.x = (right[i] + left[i]) / 2))
  }
  for (const r of rows) {
    let x = 0
    for (const it of r) (it.x = x + it.w / 2), (x += it.w + G.sep)
  }
  const mean = (list, it) => (list.length ? list.reduce((s, n) => s + n.x, 0) / list.length : it.x)
  for (let i = 0; i < 8; i++) {
    for (let r = 1; r < rows.length; r++) spread(rows[r], rows[r].map((it) => mean(r % 2 ? [...it.up, ...it.down] : it.up, it)))
    for (let r = rows.length - 2; r >= 0; r--) spread(rows[r], rows[r].map((it) => mean(r % 2 ? [...it.up, ...it.down] : it.down, it)))
  }
  // Last, from the top: a row of nodes under the nodes they hear from (so a chain stands straight),
  // then the labels between the rows, which move nothing else.
  for (let r = 2; r < rows.length; r += 2) spread(rows[r], rows[r].map((it) => mean(it.up.flatMap((u) => u.up), it)))
  for (let r = 1; r < rows.length; r += 2) spread(rows[r], rows[r].map((it) => mean([...it.up, ...it.down], it)))
  const all = rows.flat()
  const minX = Math.min(...all.map((it) => it.x - it.w / 2))
  const maxX = Math.max(...all.map((it) => it.x + it.w / 2))
  for (const it of all) {
    it.x += G.pad - minX
    it.y = G.pad + Math.floor(it.row / 2) * ROW + (it.row % 2 ? G.nodeH + G.gap + G.labelH / 2 : G.nodeH / 2)
  }
  return { nodes: [...items.values()], chains, width: maxX - minX + 2 * G.pad, height: 2 * G.pad + (ranks - 1) * ROW + G.nodeH, ranks }
}

/** A smooth path through points, leaving and reaching each one vertically. */
function through(points) {
  let d = `M${points[0].x},${points[0].y}`
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]
    const b = points[i]
    const mid = (a.y + b.y) / 2
    d += ` C${a.x},${mid} ${b.x},${mid} ${b.x},${b.y}`
  }
  return d
}

let drawnGraph = ''

function drawGraph(g) {
  const box = document.getElementById('graph')
  if (!g.nodes.length && !g.edges.length) {
    box.replaceChildren(el('p', { class: 'empty', text: 'no messages yet' }))
    drawnGraph = ''
    return
  }
  const L = layoutGraph(g)
  const width = Math.max(L.width, box.clientWidth - 2)
  const shift = (width - L.width) / 2
  const nodeTop = (it) => it.y - G.nodeH / 2
  const root = svg('svg', { width, height: L.height, 'data-ranks': L.ranks, role: 'img', 'aria-label': 'actor graph' },
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))))
  const scene = svg('g', { transform: `translate(${shift},0)` })
  root.append(scene)
  const edges = svg('g', { class: 'edges' })
  const labels = svg('g', { class: 'edge-labels' })
  for (const c of L.chains) {
    const start = { x: c.from.x, y: nodeTop(c.from) + G.nodeH }
    const end = { x: c.to.x, y: nodeTop(c.to) }
    const points = [start, ...c.points.map((p) => ({ x: p.x, y: p.y })), end]
    const e = c.e
    // A reversed edge is laid out downwards and drawn back up, its arrow at the upper end.
    edges.append(svg('path', { d: through(c.back ? points.reverse() : points), class: 'edge', 'marker-end': 'url(#arrow)', 'data-edge': `${e.from}->${e.to}` }, svg('title', { text: `${e.from} → ${e.to}: ${e.count} messages, ${e.perSecond}/s over the last 10 s` })))
    const at = c.points.find((p) => p.text)
    const lx = at ? at.x : (start.x + end.x) / 2
    const ly = at ? at.y : (start.y + end.y) / 2
    const text = edgeLabel(e)
    const w = textWidth(text, G.small) + 12
    labels.append(svg('g', { class: 'edge-label', 'data-edge': `${e.from}->${e.to}`, 'data-count': e.count },
      svg('rect', { x: lx - w / 2, y: ly - G.labelH / 2, width: w, height: G.labelH, rx: 4 }),
      svg('text', { x: lx, y: ly, text })))
  }
  const nodes = svg('g', { class: 'nodes' })
  for (const n of L.nodes) {
    const x = n.x - n.nodeW / 2
    const y = nodeTop(n)
    const keyed = knownTypes.includes(n.id)
    const group = svg('g', { class: n.id === OUTSIDE ? 'node outside' : keyed ? 'node keyed' : 'node', 'data-node': n.id, on: keyed ? { click: () => chooseType(n.id) } : {} },
      svg('title', { text: n.id === OUTSIDE ? 'messages sent from outside troupe' : `${n.id}: ${n.count}${keyed ? ' (click for its instances)' : ''}` }),
      svg('rect', { x, y, width: n.nodeW, height: G.nodeH, rx: 6 }),
      svg('text', { class: 'name', x: n.x, y: n.count ? y + 15 : y + G.nodeH / 2, text: n.name }),
      n.count ? svg('text', { class: 'count', x: n.x, y: y + 30, text: n.count }) : undefined)
    if (n.loop) {
      const rx = x + n.nodeW
      edges.append(svg('path', { class: 'edge', 'marker-end': 'url(#arrow)', 'data-edge': `${n.id}->${n.id}`, d: `M${rx},${y + 10} C${rx + G.loop},${y - 4} ${rx + G.loop},${y + G.nodeH + 4} ${rx + 1},${y + G.nodeH - 10}` }))
      const text = edgeLabel(n.loop)
      const w = textWidth(text, G.small) + 12
      labels.append(svg('g', { class: 'edge-label', 'data-edge': `${n.id}->${n.id}`, 'data-count': n.loop.count },
        svg('rect', { x: rx + G.loop + 2, y: n.y - G.labelH / 2, width: w, height: G.labelH, rx: 4 }),
        svg('text', { x: rx + G.loop + 2 + w / 2, y: n.y, text })))
    }
    nodes.append(group)
  }
  scene.append(edges, nodes, labels)
  const first = !box.querySelector('svg')
  const left = box.scrollLeft
  box.replaceChildren(root)
  // Wider than its box: shown from the middle at first (where the sources are), then left where the reader scrolled it.
  box.scrollLeft = first ? (box.scrollWidth - box.clientWidth) / 2 : left
}

async function renderGraph() {
  const { graph: g } = await api('/api/graph')
  const box = document.getElementById('graph')
  if (!g) {
    box.replaceChildren(el('p', { class: 'empty', text: 'no traffic graph: this source saw no traffic (a table alone keeps none)' }))
    return
  }
  const seen = JSON.stringify([g, box.clientWidth, knownTypes])
  if (seen === drawnGraph) return
  drawGraph(g)
  drawnGraph = seen
}

function chooseType(type) {
  document.getElementById('state-type').value = type
  document.getElementById('state-search').value = ''
  loadState().catch((error) => (document.getElementById('notice').textContent = error.message))
  document.getElementById('state-section').scrollIntoView({ block: 'nearest' })
}

// ── JSON ───────────────────────────────────────────────────────────────────

/** Strings longer than this show their start, and open to show all of it. */
const LONG_STRING = 120

/** The first n characters of a string, never half of one. */
const head = (text, n) => Array.from(text).slice(0, n).join('')

/** A one-line summary, cut only between whole values (and inside a long string, marked). */
function preview(value, budget = 60, count = true) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && value.length > 40) return `${JSON.stringify(head(value, 37)).slice(0, -1)}…"`
    return value === undefined ? 'undefined' : JSON.stringify(value)
  }
  const array = Array.isArray(value)
  const entries = array ? value.map((v) => [undefined, v]) : Object.entries(value)
  const parts = []
  let used = 2
  for (const [k, v] of entries) {
    const inner = v !== null && typeof v === 'object' ? (Array.isArray(v) ? (v.length ? `[…${v.length}]` : '[]') : Object.keys(v).length ? `{…${Object.keys(v).length}}` : '{}') : preview(v)
    const part = array ? inner : `${JSON.stringify(k)}: ${inner}`
    if (parts.length && used + part.length > budget) {
      parts.push(count ? `… ${entries.length} ${array ? 'items' : 'keys'}` : '…')
      break
    }
    parts.push(part)
    used += part.length + 2
  }
  return array ? `[${parts.join(', ')}]` : `{${parts.join(', ')}}`
}

/**
 * The whole of a value as a tree of native <details>: objects and arrays fold (those deeper than
 * `open` levels start folded, showing a preview), long strings show their start until opened.
 */
function jsonView(value, open = 1) {
  return el('div', { class: 'json-view' }, jsonNode(value, undefined, 0, open, ''))
}

function jsonNode(value, key, depth, open, comma) {
  const label = key === undefined ? undefined : el('span', { class: 'j-key', text: `${JSON.stringify(key)}: ` })
  if (value !== null && typeof value === 'object') {
    const array = Array.isArray(value)
    const entries = array ? value.map((v) => [undefined, v]) : Object.entries(value)
    const [lb, rb] = array ? ['[', ']'] : ['{', '}']
    if (!entries.length) return el('div', { class: 'j-line' }, label, el('span', { class: 'j-punct', text: `${lb}${rb}${comma}` }))
    const size = `${entries.length} ${array ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`
    const details = el('details', { class: 'j-node', 'data-key': key },
      el('summary', {}, label, el('span', { class: 'j-punct', text: lb }),
        el('span', { class: 'j-folded' }, el('span', { class: 'j-preview', text: preview(value, 60, false).slice(1, -1) }), el('span', { class: 'j-punct', text: `${rb}${comma}` }), el('span', { class: 'j-size', text: ` ${size}` }))),
      el('div', { class: 'j-entries' }, ...entries.map(([k, v], i) => jsonNode(v, k, depth + 1, open, i < entries.length - 1 ? ',' : ''))),
      el('div', { class: 'j-line j-punct', text: `${rb}${comma}` }))
    details.open = depth < open
    return details
  }
  const text = value === undefined ? 'undefined' : JSON.stringify(value)
  const kind = typeof value === 'string' ? 'j-str' : typeof value === 'number' ? 'j-num' : 'j-lit'
  if (typeof value === 'string' && value.length > LONG_STRING) {
    return el('details', { class: 'j-long', 'data-key': key },
      el('summary', {}, label, el('span', { class: 'j-folded' }, el('span', { class: kind, text: `${JSON.stringify(head(value, LONG_STRING - 20)).slice(0, -1)}…"` }), el('span', { class: 'j-size', text: ` ${value.length} characters` }))),
      el('div', { class: `j-line ${kind}`, text: `${text}${comma}` }))
  }
  return el('div', { class: 'j-line', 'data-key': key }, label, el('span', { class: kind, text }), comma ? el('span', { class: 'j-punct', text: comma }) : undefined)
}

// ── state ──────────────────────────────────────────────────────────────────

let stateAfter
let shownInstance

async function loadState(more = false) {
  const type = document.getElementById('state-type').value
  if (!type) return
  const search = document.getElementById('state-search').value
  const page = await api('/api/instances', { type, search, limit: 50, after: more ? stateAfter : undefined })
  stateAfter = page.next
  document.getElementById('state-more').hidden = !page.next
  const tbody = document.querySelector('#state tbody')
  const rows = page.items.map((r) =>
    el('tr', { 'data-key': r.key, on: { click: () => openInstance(type, r.key) } },
      el('td', { text: r.key }), el('td', { class: 'preview', text: preview(r.state) }), el('td', { class: 'num version', text: r.version === undefined ? '' : String(r.version) }),
      el('td', { text: time(r.updatedAt) })),
  )
  if (more) tbody.append(...rows)
  else tbody.replaceChildren(...rows)
  // A source without versions (the embedded mode) leaves their column out.
  document.getElementById('state').classList.toggle('no-version', !tbody.querySelector('td.version:not(:empty)'))
  const keep = shownInstance && shownInstance.type === type && page.items.some((r) => r.key === shownInstance.key)
  if (!more && !keep && page.items[0]) await openInstance(type, page.items[0].key)
}

/** One instance whole: its state, the messages that changed it, its statechart. */
async function openInstance(type, key) {
  const mine = (shownInstance = { type, key })
  for (const tr of document.querySelectorAll('#state tr[data-key]')) tr.classList.toggle('selected', tr.dataset.key === key)
  const { instance: row } = await api('/api/instance', { type, key })
  if (shownInstance !== mine) return // another was chosen meanwhile
  const panel = document.getElementById('instance')
  const state = document.getElementById('instance-state')
  const list = document.getElementById('instance-recent')
  const note = document.getElementById('instance-recent-note')
  const meta = document.getElementById('instance-meta')
  panel.hidden = false
  if (!row) {
    meta.textContent = 'no such instance (any more)'
    state.replaceChildren()
    list.replaceChildren()
    note.textContent = ''
    document.getElementById('statechart-box').hidden = true
  } else {
    const facts = []
    if (row.version !== undefined) facts.push(`version ${row.version}`)
    if (row.updatedAt) facts.push(`updated ${time(row.updatedAt)}`)
    if (row.paused) facts.push('paused')
    if (row.waiting) facts.push(`${row.waiting} waiting`)
    // An item written by hand or damaged: what could not be read is left out, and why is said.
    if (row.unreadable) facts.push(`unreadable: ${row.unreadable}`)
    meta.textContent = facts.join(' · ')
    state.replaceChildren(jsonView(row.state))
    const ids = row.recent && row.recent.length ? row.recent : row.lastMessageId ? [row.lastMessageId] : []
    const open = (id) => openMessage(id).then(() => document.getElementById('message-section').scrollIntoView({ block: 'nearest' }))
    list.replaceChildren(...ids.map((id) => el('li', { 'data-message': id }, el('a', { class: 'msg', text: id, on: { click: () => open(id) } }))))
    note.textContent = ids.length ? `${ids.length}, newest first` : 'none remembered'
    await showMachine(type, row)
    if (shownInstance !== mine) return
  }
  // Named last: once the title shows the instance, all of it is drawn.
  document.getElementById('instance-title').textContent = `${type} ${key}`
}

// ── statecharts ────────────────────────────────────────────────────────────

const machines = new Map()

/** The state ids a persisted snapshot's value is in: 'a' → ['a'], { a: 'b' } → ['a', 'a.b']. */
function activePaths(value, prefix = '') {
  if (typeof value === 'string') return [prefix + value]
  const out = []
  for (const [k, v] of Object.entries(value || {})) out.push(prefix + k, ...activePaths(v, `${prefix}${k}.`))
  return out
}

async function showMachine(type, row) {
  if (!machines.has(type)) machines.set(type, (await api('/api/machine', { type })).machine)
  const def = machines.get(type)
  const box = document.getElementById('statechart-box')
  if (!def || !row.state || !row.state.snapshot) {
    box.hidden = true
    return
  }
  box.hidden = false
  if (!canDraw('statechart')) return
  const active = new Set(activePaths(row.state.snapshot.value))
  const elements = []
  const rootId = def.id
  const walk = (node, path, parent) => {
    for (const [name, child] of Object.entries(node.states || {})) {
      const id = path ? `${path}.${name}` : name
      elements.push({ data: { id, label: name, parent, active: active.has(id) ? 'yes' : 'no' } })
      walk(child, id, id)
      for (const [event, transitions] of Object.entries(child.on || {})) {
        for (const tr of [].concat(transitions)) {
          for (const target of [].concat(tr.target || [])) {
            const to = String(target).replace(`#${rootId}.`, '').replace(/^#/, '')
            const label = event.replace(/^xstate\.after\.(\d+)\..*$/, 'after $1 ms')
            elements.push({ data: { id: `${id}-${event}-${to}`, source: id, target: to, label } })
          }
        }
      }
    }
  }
  walk(def, '', undefined)
  const ids = new Set(elements.filter((e) => !e.data.source).map((e) => e.data.id))
  const container = document.getElementById('statechart')
  const cy = cytoscape({
    container,
    elements: elements.filter((e) => !e.data.source || (ids.has(e.data.source) && ids.has(e.data.target))),
    style: [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 13, shape: 'round-rectangle', 'text-valign': 'center', width: 'label', height: 'label', padding: 8, 'background-color': '#eef0f3', 'border-width': 1, 'border-color': '#8a96a8' } },
      { selector: ':parent', style: { 'text-valign': 'top', 'background-opacity': 0.2 } },
      { selector: 'node[active = "yes"]', style: { 'background-color': '#1b7f3b', color: '#fff', 'border-color': '#0f5127', 'border-width': 2 } },
      { selector: 'edge', style: { label: 'data(label)', 'font-size': 12, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 1.2, 'text-background-color': '#fff', 'text-background-opacity': 1 } },
    ],
    layout: { name: 'breadthfirst', directed: true, fit: false, spacingFactor: 1.7 },
    userZoomingEnabled: false,
  })
  // Shown at zoom 1, never fitted by zooming out (which shrinks the text of a machine of many
  // states past reading): the box takes the drawing's height, and pans sideways if it is wider.
  const bb = cy.elements().boundingBox()
  container.style.height = `${Math.ceil(bb.h) + 32}px`
  cy.resize()
  cy.zoom(1)
  cy.pan({ x: Math.max(16, (container.clientWidth - bb.w) / 2) - bb.x1, y: 16 - bb.y1 })
  document.getElementById('statechart').setAttribute('data-active', [...active].join(' '))
}

// ── messages and traces ────────────────────────────────────────────────────

function describe(m) {
  const parts = [`${m.type}${m.key ? `#${m.key}` : ''}`, m.status]
  if (m.attempts > 1) parts.push(`${m.attempts} attempts`)
  if (m.durationMs !== undefined) parts.push(`${m.durationMs} ms`)
  if (m.error) parts.push(m.error.message)
  return parts.join(' · ')
}

function treeList(nodes, root) {
  return el('ul', { class: root ? 'tree root' : 'tree' },
    ...nodes.map((n) => el('li', { 'data-trace-node': n.id, 'data-status': n.status }, msgLink(n.id), ' ', el('span', { class: `status-${n.status}`, text: describe(n) }), n.children.length ? treeList(n.children, false) : undefined)))
}

async function openMessage(id) {
  document.getElementById('message-id').value = id
  const box = document.getElementById('message')
  const traceBox = document.getElementById('trace')
  const { message: view } = await api('/api/message', { id })
  let correlationId = id
  if (view) {
    const m = view.message
    correlationId = m.correlationId || id
    box.replaceChildren(
      el('h3', { text: `Message ${m.id}` }),
      el('p', { 'data-testid': 'message-status', class: `status-${m.status}`, text: describe(m) }),
      el('table', {}, el('tbody', {}, ...m.history.map((e) => el('tr', {}, el('td', { text: time(e.at) }), el('td', { text: e.status }), el('td', { text: `attempt ${e.attempt}` }), el('td', { text: e.reason || '' }))))),
      el('p', {}, 'caused by: ', ...(view.causes.length ? view.causes.flatMap((c) => [msgLink(c.id), ' ']) : ['a sender outside troupe'])),
      el('p', {}, 'caused: ', ...(view.caused.length ? view.caused.flatMap((c) => [msgLink(c.id), ` (${c.type}) `]) : ['nothing'])),
    )
  } else {
    box.replaceChildren(el('p', { text: `no message ${id} is known; showing it as a correlation id` }))
  }
  const roots = await api('/api/trace', { id: correlationId })
  traceBox.replaceChildren(el('h3', { text: `Trace ${correlationId}` }), roots.length ? treeList(roots, true) : el('p', { text: 'no messages of this request are known' }))
}

// ── dead letters ───────────────────────────────────────────────────────────

async function loadDead() {
  const rows = await api('/api/dead')
  document.querySelector('#dead tbody').replaceChildren(
    ...rows.map((r) =>
      el('tr', { 'data-dead': r.id },
        el('td', {}, msgLink(r.id)), el('td', { text: r.type }), el('td', { text: r.key }), el('td', { text: String(r.attempts.length) }),
        el('td', { text: r.error.message }),
        el('td', {}, el('button', { 'data-replay': r.id, text: 'Replay', on: { click: () => replay(r.id) } }))),
    ),
  )
}

async function replay(id) {
  const notice = document.getElementById('notice')
  try {
    await act('/api/replay', { id })
    notice.textContent = `replayed ${id}`
    await loadDead()
    await openMessage(id)
  } catch (error) {
    notice.textContent = `could not replay ${id}: ${error.message}`
  }
}

// ── live updates ───────────────────────────────────────────────────────────

function connect() {
  const source = new EventSource('/api/events' + (auth ? `?${auth}` : ''))
  const live = document.getElementById('live')
  source.addEventListener('open', () => (live.textContent = 'live'))
  source.addEventListener('error', () => (live.textContent = 'reconnecting…'))
  let ticks = 0
  source.addEventListener('tick', (event) => {
    const { actors } = plain(JSON.parse(event.data))
    renderActors(actors)
    if (++ticks % 2 === 0) {
      renderGraph().catch(() => {})
      loadDead().catch(() => {})
    }
  })
}

document.getElementById('state-form').addEventListener('submit', (e) => {
  e.preventDefault()
  loadState().catch((error) => (document.getElementById('notice').textContent = error.message))
})
document.getElementById('state-more').addEventListener('click', () => loadState(true))
document.getElementById('message-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const id = document.getElementById('message-id').value.trim()
  if (id) openMessage(id).catch((error) => (document.getElementById('notice').textContent = error.message))
})

/** The header says which mode and source the answers come from. */
async function showSource() {
  const { about } = await api('/api/about')
  const box = document.getElementById('source')
  if (!about) return
  box.dataset.mode = about.mode
  box.replaceChildren(el('span', { class: 'mode', text: about.mode }), ' ', el('span', { text: about.source }))
  document.title = `troupe · ${about.mode} · ${about.source}`
}

showSource().catch(() => {})
api('/api/actors').then(renderActors).then(() => Promise.all([renderGraph(), loadDead()])).catch((error) => (document.getElementById('notice').textContent = error.message))
connect()
