// The drag canvas: draws the scene in the browser and streams the object's position to the server.
//
// Drawing happens here, on every pointer move, so the drag is smooth whatever the server does.
// Positions go out with back-pressure: a new one is sent only once the previous one is answered, or
// after a timeout. Positions that pile up in between are not queued: only the newest is sent.
// While the mouse button is down they go to the drag route (`data.route`, ui.drag_route) by WebSocket,
// whose answer this code swaps into the model columns (.live-column) and the live region itself: no
// Streamlit run, which would cost the browser far more than the swap. Every other position (a release,
// an arrow key), and every position after the route refused one, goes to Python as the component's
// state, which runs the page; Python answers it by passing `ack` back in `data`. Release always ends
// with the final position.

const ACK_TIMEOUT_MS = 1000;
const ROUTE_TIMEOUT_MS = 20000;
const MAX_LATENCIES = 2000;

// One state object per mounted instance. Streamlit calls the default function again on every
// `data` change with the same parentElement, so the state lives here rather than in closures.
const instances = new WeakMap();

// Figures the browser tests and the benchmark read (window.shiftLabStats): sends, acks, latencies.
// routed: how many of the answers came from the drag route.
const stats = (globalThis.shiftLabStats ??= { sent: 0, acked: 0, routed: 0, latenciesMs: [] });

function loadImage(src, onload) {
  const image = new Image();
  image.onload = onload;
  image.src = src;
  return image;
}

function draw(s) {
  const ctx = s.canvas.getContext("2d");
  ctx.clearRect(0, 0, s.size, s.size);
  if (s.background.complete) ctx.drawImage(s.background, 0, 0, s.size, s.size);
  if (s.sprite.complete) {
    // Same convention as scene.compose: the top-left corner is (x - w // 2, y - h // 2).
    const w = s.sprite.naturalWidth;
    const h = s.sprite.naturalHeight;
    ctx.drawImage(s.sprite, s.x - Math.floor(w / 2), s.y - Math.floor(h / 2));
  }
  s.label.textContent = `x = ${s.x}, y = ${s.y}`;
}

function clamp(v, size) {
  return Math.min(size - 1, Math.max(0, Math.round(v)));
}

function send(s) {
  s.seq += 1;
  s.inflight = s.seq;
  s.sentAt = performance.now();
  s.pending = false;
  stats.sent += 1;
  clearTimeout(s.timer);
  if (s.dragging && s.route && !s.routeRefused) {
    post(s);
    return;
  }
  const seq = s.seq;
  s.timer = setTimeout(() => {
    if (s.inflight === seq) acknowledge(s);
  }, ACK_TIMEOUT_MS);
  s.setStateValue("pos", { x: s.x, y: s.y, seq: s.seq, dragging: s.dragging });
}

// Send the position to the drag route, over the canvas's WebSocket (opened on the first drag, kept
// open), and wait for its answer (openSocket); if the route refuses, closes, or has not answered in
// ROUTE_TIMEOUT_MS (an old page, a restarted server), this drag's positions go to Python instead.
// (Its answers take as long as the models do, so they have no shorter timeout.)
function post(s) {
  const message = JSON.stringify({ session: s.route.session, token: s.route.token, x: s.x, y: s.y });
  const socket = openSocket(s);
  if (socket.readyState === WebSocket.OPEN) socket.send(message);
  else socket.addEventListener("open", () => socket.send(message), { once: true });
  s.routeWaiting = true;
  s.timer = setTimeout(() => refuse(s), ROUTE_TIMEOUT_MS);
}

function openSocket(s) {
  if (s.socket && s.socket.readyState <= WebSocket.OPEN) return s.socket;
  const url = new URL(s.route.path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  socket.addEventListener("message", (event) => {
    const answer = JSON.parse(event.data);
    if (answer.error || !s.routeWaiting) return; // refused: the route closes the socket next
    s.routeWaiting = false;
    show(s, answer);
    stats.routed += 1;
    answered(s);
  });
  socket.addEventListener("close", () => {
    if (s.socket === socket) s.socket = null;
    if (s.routeWaiting) refuse(s);
  });
  s.socket = socket;
  return socket;
}

function refuse(s) {
  s.routeWaiting = false;
  s.routeRefused = true;
  s.pending = true; // the same position again, to Python
  clearTimeout(s.timer);
  acknowledge(s);
}

// The route's answer in place of what the last run drew: each model's column, the x and y boxes (the
// next run sets them to the same numbers), and the live region's sentence.
function show(s, answer) {
  for (const [column, html] of Object.entries(answer.columns)) {
    for (const node of document.querySelectorAll(`.live-column[data-column="${CSS.escape(column)}"]`)) {
      node.innerHTML = html;
    }
  }
  const boxes = s.positionBoxes ? document.querySelectorAll(s.positionBoxes) : [];
  if (boxes.length === 2) [boxes[0].value, boxes[1].value] = [answer.x, answer.y];
  globalThis.shiftLabAnnounce?.(answer.sentence);
}

function answered(s) {
  stats.acked += 1;
  stats.latenciesMs.push(performance.now() - s.sentAt);
  if (stats.latenciesMs.length > MAX_LATENCIES) stats.latenciesMs.shift();
  clearTimeout(s.timer);
  acknowledge(s);
}

// Send now if nothing is in flight; otherwise remember that a newer position is waiting.
function requestSend(s) {
  if (s.inflight === null) send(s);
  else s.pending = true;
}

function acknowledge(s) {
  s.inflight = null;
  if (s.pending) send(s);
}

function moveTo(s, x, y) {
  const nx = clamp(x, s.size);
  const ny = clamp(y, s.size);
  if (nx === s.x && ny === s.y) return;
  s.x = nx;
  s.y = ny;
  draw(s);
  requestSend(s);
}

function pointerPosition(s, event) {
  const rect = s.canvas.getBoundingClientRect();
  return [
    ((event.clientX - rect.left) * s.size) / rect.width,
    ((event.clientY - rect.top) * s.size) / rect.height,
  ];
}

function attach(s) {
  const { canvas } = s;
  canvas.addEventListener("pointerdown", (event) => {
    const [px, py] = pointerPosition(s, event);
    const halfW = s.sprite.naturalWidth / 2;
    const halfH = s.sprite.naturalHeight / 2;
    const onSprite = Math.abs(px - s.x) <= halfW && Math.abs(py - s.y) <= halfH;
    canvas.focus({ preventScroll: true, focusVisible: false });
    event.preventDefault();
    // A click beside the object only selects the canvas (for the arrow keys) unless clicks may move it.
    if (!onSprite && !s.clickMoves) return;
    // Grabbing the object keeps the grab point under the pointer; clicking elsewhere jumps there.
    s.grab = onSprite ? [s.x - px, s.y - py] : [0, 0];
    s.dragging = true;
    s.routeRefused = false; // each drag tries the route again
    canvas.setPointerCapture(event.pointerId);
    moveTo(s, px + s.grab[0], py + s.grab[1]);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!s.dragging) return;
    const [px, py] = pointerPosition(s, event);
    moveTo(s, px + s.grab[0], py + s.grab[1]);
  });
  const release = () => {
    if (!s.dragging) return;
    s.dragging = false;
    requestSend(s); // the final position, with dragging: false
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? s.bigStep : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    moveTo(s, s.x + move[0], s.y + move[1]);
  });
}

function create(parentElement, data) {
  const root = parentElement.querySelector(".drag-canvas");
  const canvas = document.createElement("canvas");
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  const label = document.createElement("div");
  label.className = "drag-canvas-position";
  root.replaceChildren(canvas, label);
  const s = {
    canvas,
    label,
    size: 0,
    x: data.x,
    y: data.y,
    // Continue the sequence where Python is, so a re-mounted canvas is never taken for an old one.
    seq: data.ack ?? 0,
    inflight: null,
    pending: false,
    dragging: false,
    grab: [0, 0],
    timer: null,
    sentAt: 0,
    route: null,
    positionBoxes: null,
    routeRefused: false,
    routeWaiting: false,
    socket: null,
    backgroundSrc: null,
    spriteSrc: null,
    setStateValue: null,
  };
  attach(s);
  return s;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let s = instances.get(parentElement);
  if (!s) {
    s = create(parentElement, data);
    instances.set(parentElement, s);
  }
  s.setStateValue = setStateValue;
  s.canvas.setAttribute("aria-label", data.label); // in the page's language
  s.bigStep = data.big_step;
  s.clickMoves = data.click_moves;
  s.canvas.style.width = `${data.display_px}px`;
  parentElement.querySelector(".drag-canvas").classList.toggle("fit", data.fit);
  if (s.size !== data.canvas) {
    s.size = data.canvas;
    s.canvas.width = s.size;
    s.canvas.height = s.size;
  }
  if (s.backgroundSrc !== data.background) {
    s.backgroundSrc = data.background;
    s.background = loadImage(data.background, () => draw(s));
  }
  if (s.spriteSrc !== data.sprite) {
    s.spriteSrc = data.sprite;
    s.sprite = loadImage(data.sprite, () => draw(s));
  }
  s.route = data.route;
  s.positionBoxes = data.position_boxes;
  if (s.inflight !== null && data.ack >= s.inflight) answered(s);
  // When idle, Python's position is the truth (typed coordinates, a clamp on a smaller canvas).
  if (!s.dragging && s.inflight === null) {
    s.x = data.x;
    s.y = data.y;
  }
  draw(s);
}
