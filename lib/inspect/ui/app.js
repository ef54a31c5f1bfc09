// troupe's web view: plain DOM (every value goes in as text, never as HTML) and cytoscape for
// the actor graph and statecharts. Reads the inspection API of the server that served it.
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
const show = (v) => JSON.stringify(v)

function msgLink(id) {
  return el('a', { class: 'msg', 'data-message': id, text: id, on: { click: () => openMessage(id) } })
}

// ── actors and graph ───────────────────────────────────────────────────────

let graph
let knownTypes = []

function renderActors(rows) {
  const tbody = document.querySelector('#actors tbody')
  tbody.replaceChildren(
    ...rows.map((r) =>
      el('tr', { 'data-actor': r.type },
        el('td', { text: r.type }), el('td', { text: r.kind || '' }), el('td', { text: String(r.instances) }),
        el('td', { text: r.processed === undefined ? '' : String(r.processed) }), el('td', { text: r.retried === undefined ? '' : String(r.retried) }),
        el('td', { text: String(r.dead) }), el('td', { text: r.queued === undefined ? '' : String(r.queued) }),
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

async function renderGraph() {
  const { graph: g } = await api('/api/graph')
  if (!g || !canDraw('graph')) return
  const elements = [
    ...g.nodes.map((n) => ({ data: { id: n.type, label: `${n.type}\n${n.count}` } })),
    ...g.edges.filter((e) => e.from === '(outside)').map(() => ({ data: { id: '(outside)', label: 'outside' } })).slice(0, 1),
    ...g.edges.map((e) => ({ data: { id: `${e.from}->${e.to}`, source: e.from, target: e.to, label: `${e.perSecond}/s (${e.count})` } })),
  ]
  if (!graph) {
    graph = cytoscape({
      container: document.getElementById('graph'),
      elements,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'font-size': 10, shape: 'round-rectangle', width: 110, height: 36, 'background-color': '#dfe8fb', 'border-color': '#2457c5', 'border-width': 1 } },
        { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 1.5, 'line-color': '#8a96a8', 'target-arrow-color': '#8a96a8', 'text-background-color': '#fff', 'text-background-opacity': 1 } },
      ],
      layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.1 },
      userZoomingEnabled: false,
    })
    return
  }
  const before = graph.elements().length
  for (const e of elements) {
    const existing = graph.getElementById(e.data.id)
    if (existing.length) existing.data('label', e.data.label)
    else graph.add(e)
  }
  if (graph.elements().length !== before) graph.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1.1 }).run()
}

// ── state ──────────────────────────────────────────────────────────────────

let stateAfter

async function loadState(more = false) {
  const type = document.getElementById('state-type').value
  if (!type) return
  const search = document.getElementById('state-search').value
  const page = await api('/api/instances', { type, search, limit: 50, after: more ? stateAfter : undefined })
  stateAfter = page.next
  document.getElementById('state-more').hidden = !page.next
  const tbody = document.querySelector('#state tbody')
  const rows = page.items.map((r) =>
    el('tr', { 'data-key': r.key, on: { click: () => showMachine(type, r) } },
      el('td', { text: r.key }), el('td', { class: 'json' }, el('div', { class: 'clip', text: show(r.state) })), el('td', { text: r.version === undefined ? '' : String(r.version) }),
      el('td', { text: time(r.updatedAt) }), el('td', {}, r.lastMessageId ? msgLink(r.lastMessageId) : '')),
  )
  if (more) tbody.append(...rows)
  else tbody.replaceChildren(...rows)
  if (!more && page.items[0]) showMachine(type, page.items[0])
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
  document.getElementById('statechart-title').textContent = `${type} ${row.key}`
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
  cytoscape({
    container: document.getElementById('statechart'),
    elements: elements.filter((e) => !e.data.source || (ids.has(e.data.source) && ids.has(e.data.target))),
    style: [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 11, shape: 'round-rectangle', 'text-valign': 'center', width: 90, height: 30, 'background-color': '#eef0f3', 'border-width': 1, 'border-color': '#8a96a8' } },
      { selector: ':parent', style: { 'text-valign': 'top', 'background-opacity': 0.2 } },
      { selector: 'node[active = "yes"]', style: { 'background-color': '#1b7f3b', color: '#fff', 'border-color': '#0f5127', 'border-width': 2 } },
      { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 1.2 } },
    ],
    layout: { name: 'breadthfirst', directed: true },
    userZoomingEnabled: false,
  })
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

api('/api/actors').then(renderActors).then(() => Promise.all([renderGraph(), loadDead()])).catch((error) => (document.getElementById('notice').textContent = error.message))
connect()
