// The eshop storefront: a small single-page app over the shop's REST API (same origin, no
// framework, no build step). Views by URL fragment: #/ (products), #/products/ID, #/basket,
// #/checkout, #/orders, #/orders/ID, #/login, #/register.
"use strict";

const state = { token: localStorage.getItem("eshop-token"), basketToken: localStorage.getItem("eshop-basket-token"),
  user: null, brands: [], categories: [], placed: new Set() };
const main = document.getElementById("main");
let routeSeq = 0;  // every navigation counts one: a view whose answers come after the next one's drops them

// Shows a view's content, unless the shopper went elsewhere while it waited for the shop.
function paint(seq, ...nodes) {
  if (seq === routeSeq) main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

// --- small helpers ---------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const money = (cents, currency = "USD") => new Intl.NumberFormat("en-US", { style: "currency", currency }).format(cents / 100);
const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  if (state.token) init.headers.Authorization = `Bearer ${state.token}`;
  // A guest's basket goes with every basket call; once a user is logged in, the shop merges it.
  const guestBasket = state.basketToken && path.startsWith("/api/v1/basket");
  if (guestBasket) init.headers["X-Basket-Token"] = state.basketToken;
  const res = await fetch(path, init);
  if (guestBasket && state.token && res.ok) setBasketToken(null);  // merged into the user's basket
  if (res.status === 304) return { notModified: true };
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401 && state.token) { setToken(null); }
  if (!res.ok) throw new ApiError(res.status, data);
  if (data && typeof data === "object") Object.defineProperty(data, "etag", { value: res.headers.get("ETag") });
  return data;
}

function notice(text, ok = false) {
  const box = document.getElementById("notice");
  box.className = ok ? "ok" : "";
  box.textContent = text || "";
}

// A notice that survives the navigation that follows it (to the next page).
function flash(text, ok = false) {
  notice(text, ok);
  state.flash = true;
}

// A problem response in words, with the details a shopper needs (field errors, short stock).
function explain(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}`;
  const p = error.problem;
  let text = p.detail || p.title || `The shop answered ${error.status}.`;
  const fields = Object.values(p.errors || {}).flat();
  if (fields.length) text = fields.join(" ");  // the fields' own words say more than "invalid fields"
  if (Array.isArray(p.lines) && p.lines.length)
    text += " " + p.lines.map((l) => `${l.name || "Product " + l.productId}: only ${l.availableStock} left.`).join(" ");
  if (error.status === 503 || error.status === 429) text += " Please try again in a moment.";
  return text;
}

function fieldErrors(form, error) {
  form.querySelectorAll(".field-error").forEach((e) => e.remove());
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const errors = (error instanceof ApiError && error.problem.errors) || {};
  let first = null;
  for (const [field, messages] of Object.entries(errors)) {
    const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!input) continue;
    const id = `${input.id}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.closest("label").append(h("span", { class: "field-error", id }, messages.join(" ")));
    first = first || input;
  }
  if (first) first.focus();
}

function setToken(token) {
  state.token = token;
  state.user = null;
  if (token) localStorage.setItem("eshop-token", token); else localStorage.removeItem("eshop-token");
  renderNav();
}

function setBasketToken(token) {
  state.basketToken = token;
  if (token) localStorage.setItem("eshop-basket-token", token); else localStorage.removeItem("eshop-basket-token");
}

async function loadUser() {
  if (!state.token) return;
  try { state.user = await api("GET", "/api/v1/identity/me"); } catch { state.user = null; }
}

function renderNav() {
  const signedIn = !!state.token;
  document.getElementById("nav-login").hidden = signedIn;
  document.getElementById("nav-register").hidden = signedIn;
  document.getElementById("nav-logout").hidden = !signedIn;
  document.getElementById("nav-orders").hidden = !signedIn;
  const user = document.getElementById("nav-user");
  user.hidden = !(signedIn && state.user);
  user.textContent = state.user ? `Hi, ${state.user.name}` : "";
}

async function refreshBasketCount() {
  const link = document.getElementById("nav-basket");
  if (!state.token && !state.basketToken) { link.textContent = "Basket"; return; }
  try {
    const b = await api("GET", "/api/v1/basket");
    link.textContent = b.itemCount ? `Basket (${b.itemCount})` : "Basket";
  } catch { link.textContent = "Basket"; }
}

function needLogin(next) {
  flash("Please log in first.");
  location.hash = `#/login?next=${encodeURIComponent(next)}`;
}

function image(product, alt) {
  return h("img", { src: product.imageUrl || "", alt: alt ?? "", loading: "lazy", width: 400, height: 300 });
}

// --- views -------------------------------------------------------------------------------------
async function productsView(params) {
  const seq = routeSeq;
  if (!state.brands.length) {
    [state.brands, state.categories] = await Promise.all([api("GET", "/api/v1/catalog/brands"), api("GET", "/api/v1/catalog/categories")]);
  }
  const query = new URLSearchParams(params);
  if (!query.get("pageSize")) query.set("pageSize", "12");
  const page = await api("GET", `/api/v1/catalog/products?${query}`);
  const select = (name, label, options) => h("label", {}, label,
    h("select", { name, id: `f-${name}` }, h("option", { value: "" }, "Any"),
      options.map((o) => h("option", { value: String(o.id), selected: String(o.id) === (params.get(name) || "") }, `${o.name} (${o.productCount ?? o.count ?? ""})`.replace(" ()", "")))));
  const form = h("form", { class: "filters", "aria-label": "Filter products", onsubmit: (e) => {
      e.preventDefault();
      const data = new FormData(e.target);
      const next = new URLSearchParams();
      for (const [k, v] of data.entries()) if (v) next.set(k, k.endsWith("Price") ? String(Math.round(parseFloat(v) * 100)) : v);
      if (params.get("q")) next.set("q", params.get("q"));
      location.hash = `#/?${next}`;
    } },
    select("brand", "Brand", state.brands),
    select("category", "Category", state.categories),
    h("div", { class: "row" },
      h("label", {}, "Min price", h("input", { name: "minPrice", id: "f-min", type: "number", min: 0, step: "0.01", value: params.get("minPrice") ? params.get("minPrice") / 100 : "" })),
      h("label", {}, "Max price", h("input", { name: "maxPrice", id: "f-max", type: "number", min: 0, step: "0.01", value: params.get("maxPrice") ? params.get("maxPrice") / 100 : "" }))),
    h("label", {}, "Sort", h("select", { name: "sort", id: "f-sort" },
      [["", "Name"], ["price", "Price: low to high"], ["-price", "Price: high to low"], ["newest", "Newest"]]
        .map(([v, t]) => h("option", { value: v, selected: (params.get("sort") || "") === v }, t)))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "inStock", value: "true", checked: params.get("inStock") === "true" }), "In stock only"),
    h("button", { type: "submit" }, "Apply filters"));
  const title = params.get("q") ? `Results for “${params.get("q")}”` : "Products";
  const grid = h("div", { class: "grid", id: "products" },
    page.items.map((p) => h("article", { class: "card", "data-product": p.id },
      h("a", { href: `#/products/${p.id}`, tabindex: -1, "aria-hidden": "true" }, image(p, "")),
      h("h2", {}, h("a", { href: `#/products/${p.id}` }, p.name)),
      h("div", { class: "muted" }, p.brand ? p.brand.name : ""),
      h("div", { class: "price" }, money(p.price, p.currency)),
      h("div", { class: "muted" }, p.availableStock > 0 ? `${p.availableStock} in stock` : "Out of stock"),
      h("button", { type: "button", disabled: p.availableStock <= 0, onclick: () => addToBasket(p.id, 1, p.name) }, "Add to basket"))));
  const go = (n) => { const next = new URLSearchParams(params); next.set("page", n); location.hash = `#/?${next}`; };
  paint(seq, h("h1", {}, title), h("div", { class: "layout" }, form, h("section", { "aria-label": "Product list" },
    page.items.length ? grid : h("p", {}, "No product matches these filters."),
    h("nav", { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", class: "secondary", disabled: page.page <= 1, onclick: () => go(page.page - 1) }, "Previous"),
      h("span", {}, `Page ${page.page} of ${Math.max(1, page.totalPages)} · ${page.totalItems} products`),
      h("button", { type: "button", class: "secondary", disabled: page.page >= page.totalPages, onclick: () => go(page.page + 1) }, "Next")))));
}

async function addToBasket(productId, quantity, name) {
  try {
    // A visitor without an account gets a guest basket; logging in or registering keeps it.
    if (!state.token && !state.basketToken) setBasketToken((await api("POST", "/api/v1/basket/guest")).basketToken);
    await api("POST", "/api/v1/basket/items", { productId, quantity });
    notice(`${name} added to your basket.`, true);
    refreshBasketCount();
  } catch (e) { notice(explain(e)); }
}

async function productView(id) {
  const seq = routeSeq;
  const data = await api("GET", `/api/v1/shop/products/${id}`);
  const p = data.product;
  const qty = h("input", { id: "qty", type: "number", min: 1, max: 10000, value: 1 });
  const attrs = Object.entries(p.attributes || {});
  paint(seq, h("article", { class: "product", "data-product": p.id },
    image(p, p.name),
    h("div", {},
      h("h1", {}, p.name),
      h("p", { class: "price" }, money(p.price, p.currency)),
      h("p", { id: "stock" }, p.availableStock > 0 ? `${p.availableStock} in stock` : "Out of stock"),
      h("p", {}, p.description),
      h("dl", {},
        h("dt", {}, "Brand"), h("dd", {}, p.brand ? p.brand.name : "–"),
        h("dt", {}, "Category"), h("dd", {}, p.category ? p.category.name : "–"),
        h("dt", {}, "Supplier"), h("dd", {}, p.supplier ? `${p.supplier.name} (${p.supplier.country})` : "–"),
        attrs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])),
      h("div", { class: "buy" }, h("label", { for: "qty" }, "Quantity", qty),
        h("button", { type: "button", id: "add", disabled: p.availableStock <= 0, onclick: () => addToBasket(p.id, parseInt(qty.value, 10) || 1, p.name) }, "Add to basket")),
      data.coupons && data.coupons.length ? h("section", { class: "coupons" }, h("h2", {}, "Coupons"),
        h("ul", {}, data.coupons.map((c) => h("li", {}, h("code", {}, c.code), " — ", c.description)))) : null)));
}

async function basketView() {
  const seq = routeSeq;
  const empty = { items: [], itemCount: 0 };
  const b = state.token || state.basketToken ? await api("GET", "/api/v1/basket") : empty;
  refreshBasketCount();
  if (!b.items.length) {
    paint(seq, h("h1", {}, "Your basket"), h("p", {}, "Your basket is empty. ", h("a", { href: "#/" }, "Browse the products.")));
    return;
  }
  const rows = b.items.map((l) => {
    const input = h("input", { type: "number", min: 0, max: 10000, value: l.quantity, id: `qty-${l.productId}`, "aria-label": `Quantity of ${l.name}` });
    input.addEventListener("change", async () => {
      try { await api("PUT", `/api/v1/basket/items/${l.productId}`, { quantity: parseInt(input.value, 10) || 0 }); notice(""); basketView(); }
      catch (e) { notice(explain(e)); }
    });
    return h("tr", { "data-line": l.productId },
      h("td", {}, l.imageUrl ? h("img", { class: "thumb", src: l.imageUrl, alt: "", width: 48, height: 36 }) : null,
        h("a", { href: `#/products/${l.productId}` }, l.name)),
      h("td", { class: "n" }, money(l.unitPrice, b.currency)),
      h("td", {}, input),
      h("td", { class: "n" }, money(l.lineTotal, b.currency)),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await api("DELETE", `/api/v1/basket/items/${l.productId}`); basketView(); } catch (e) { notice(explain(e)); } } }, "Remove")));
  });
  const code = h("input", { id: "coupon", "data-field": "code", autocomplete: "off", value: b.coupon ? b.coupon.code : "" });
  const couponForm = h("form", { class: "stack", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PUT", "/api/v1/basket/coupon", { code: code.value }); notice("The coupon applies.", true); basketView(); }
      catch (err) { notice(explain(err)); fieldErrors(couponForm, err); }
    } },
    h("label", { for: "coupon" }, "Coupon code", code),
    h("div", {}, h("button", { type: "submit" }, "Apply coupon"), " ",
      b.coupon ? h("button", { type: "button", class: "secondary", onclick: async () => { await api("DELETE", "/api/v1/basket/coupon"); basketView(); } }, "Remove coupon") : null));
  paint(seq, h("h1", {}, "Your basket"),
    h("table", { class: "lines" },
      h("thead", {}, h("tr", {}, h("th", {}, "Product"), h("th", { class: "n" }, "Price"), h("th", {}, "Quantity"), h("th", { class: "n" }, "Total"), h("th", {}, h("span", { class: "visually-hidden" }, "Actions")))),
      h("tbody", {}, rows)),
    h("div", { class: "totals", id: "totals" },
      h("span", {}, "Subtotal"), h("span", { id: "subtotal" }, money(b.subtotal, b.currency)),
      h("span", {}, b.coupon ? `Discount (${b.coupon.code})` : "Discount"), h("span", { id: "discount" }, `−${money(b.discount, b.currency)}`),
      h("span", { class: "grand" }, "Total"), h("span", { class: "grand", id: "total" }, money(b.total, b.currency))),
    couponForm,
    h("p", {}, h("a", { href: "#/checkout", id: "to-checkout" }, "Proceed to checkout")));
}

function checkoutView() {
  const seq = routeSeq;
  if (!state.token) return needLogin("#/checkout");
  const field = (name, label, attrs = {}) => h("label", {}, label, h("input", { id: `c-${name.replace(/\W/g, "-")}`, name, "data-field": name, ...attrs }));
  const form = h("form", { class: "stack", id: "checkout", onsubmit: async (e) => {
      e.preventDefault();
      const v = (n) => form.querySelector(`[name="${n}"]`).value;
      const body = {
        shippingAddress: { fullName: v("shippingAddress.fullName"), street: v("shippingAddress.street"), city: v("shippingAddress.city"),
          postalCode: v("shippingAddress.postalCode"), country: v("shippingAddress.country") },
        deliveryNote: v("deliveryNote"),
        payment: { cardNumber: v("payment.cardNumber"), cardHolder: v("payment.cardHolder"), expiry: v("payment.expiry"), cvv: v("payment.cvv") },
      };
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const answer = await api("POST", "/api/v1/basket/checkout", body, { "Idempotency-Key": form.dataset.key });
        state.placed.add(answer.orderId);
        flash("Thank you! Your order is placed.", true);
        refreshBasketCount();
        location.hash = `#/orders/${answer.orderId}`;
      } catch (err) { notice(explain(err)); fieldErrors(form, err); button.disabled = false; }
    } },
    h("fieldset", {}, h("legend", {}, "Delivery address"),
      field("shippingAddress.fullName", "Full name", { autocomplete: "name", required: true }),
      field("shippingAddress.street", "Street", { autocomplete: "street-address", required: true }),
      field("shippingAddress.city", "City", { autocomplete: "address-level2", required: true }),
      field("shippingAddress.postalCode", "Postal code", { autocomplete: "postal-code", required: true }),
      field("shippingAddress.country", "Country (2 letters)", { autocomplete: "country", required: true, maxlength: 2 }),
      field("deliveryNote", "A note for the postman", {})),
    h("fieldset", {}, h("legend", {}, "Card"),
      field("payment.cardNumber", "Card number", { autocomplete: "cc-number", inputmode: "numeric", required: true }),
      field("payment.cardHolder", "Name on the card", { autocomplete: "cc-name", required: true }),
      field("payment.expiry", "Expiry (MM/YY)", { autocomplete: "cc-exp", placeholder: "MM/YY", required: true }),
      field("payment.cvv", "CVV", { autocomplete: "cc-csc", inputmode: "numeric", required: true, maxlength: 4 })),
    h("button", { type: "submit" }, "Place the order"));
  form.dataset.key = uuid();  // one key per filled form: a retried submit is the same order
  paint(seq, h("h1", {}, "Checkout"), form);
}

const REASONS = {
  payment_declined: "The card was declined. Your basket is back: try another card.",
  out_of_stock: "Some items ran out of stock before we could reserve them. You were refunded, and your basket is back.",
  cancelled_by_customer: "You cancelled this order. You were refunded.",
};
const FINAL = ["completed", "cancelled"];
let orderTimer = null;

async function orderView(id, etag) {
  const seq = routeSeq;
  if (!state.token) return needLogin(`#/orders/${id}`);
  // Polling with the order's ETag: the shop answers 304, without a body, until the saga moves on.
  let o;
  try {
    o = await api("GET", `/api/v1/orders/${id}`, undefined, etag ? { "If-None-Match": etag } : {});
  } catch (e) {
    // Checkout answers at once (202) and ordering records the order a moment later, from the
    // checkout's event: an order this page just placed may not be there yet.
    if (!(e instanceof ApiError && e.status === 404 && state.placed.has(id))) throw e;
    paint(seq, h("h1", {}, "Order ", h("code", {}, id.slice(0, 8))),
      h("p", {}, "Status: ", h("span", { class: "status", id: "order-status", "aria-live": "polite" }, "being placed")));
    clearTimeout(orderTimer);
    orderTimer = setTimeout(() => { if (seq === routeSeq) orderView(id).catch(() => {}); }, 300);
    return;
  }
  const current = o.notModified ? etag : o.etag;
  const again = () => {
    clearTimeout(orderTimer);
    orderTimer = setTimeout(() => { if (seq === routeSeq) orderView(id, current).catch(() => {}); }, 1000);
  };
  if (o.notModified) return again();
  const cancellable = ["submitted", "paid", "stock_confirmed"].includes(o.status);
  paint(seq, h("h1", {}, "Order ", h("code", {}, o.id.slice(0, 8))),
    h("p", {}, "Status: ", h("span", { class: `status ${o.status}`, id: "order-status", "aria-live": "polite" }, o.status.replace("_", " "))),
    o.statusReason ? h("p", { id: "order-reason" }, REASONS[o.statusReason] || o.statusReason) : null,
    h("ol", { class: "timeline", "aria-label": "What happened" }, o.timeline.map((t) => h("li", {}, `${new Date(t.at).toLocaleTimeString()} — ${t.event.replace(/_/g, " ")}`))),
    h("table", { class: "lines" }, h("tbody", {}, o.items.map((i) => h("tr", {}, h("td", {}, i.imageUrl ? h("img", { class: "thumb", src: i.imageUrl, alt: "", width: 48, height: 36 }) : null, i.name), h("td", { class: "n" }, `× ${i.quantity}`), h("td", { class: "n" }, money(i.lineTotal, o.currency)))))),
    h("div", { class: "totals" }, h("span", {}, "Subtotal"), h("span", {}, money(o.subtotal, o.currency)),
      h("span", {}, "Discount"), h("span", {}, `−${money(o.discount, o.currency)}`),
      h("span", { class: "grand" }, "Total"), h("span", { class: "grand" }, money(o.total, o.currency))),
    o.shipment ? h("p", {}, "Tracking number: ", h("code", {}, o.shipment.trackingNumber)) : null,
    cancellable ? h("button", { type: "button", class: "secondary", id: "cancel", onclick: async () => {
      try { await api("POST", `/api/v1/orders/${id}/cancel`); notice("The order is being cancelled.", true); orderView(id); }
      catch (e) { notice(explain(e)); } } }, "Cancel the order") : null);
  // The order's status follows the saga: asked again every second until it is final.
  if (!FINAL.includes(o.status)) again();
}

async function ordersView() {
  const seq = routeSeq;
  if (!state.token) return needLogin("#/orders");
  const page = await api("GET", "/api/v1/orders?pageSize=20");
  const details = await Promise.all(page.items.map((o) => api("GET", `/api/v1/orders/${o.id}`)));
  paint(seq, h("h1", {}, "My orders"), details.length ? h("div", { class: "orders" }, details.map((o) =>
    h("article", { class: "order", "data-order": o.id },
      h("h2", {}, h("a", { href: `#/orders/${o.id}` }, `Order ${o.id.slice(0, 8)}`), " ", h("span", { class: `status ${o.status}` }, o.status.replace("_", " "))),
      h("p", { class: "muted" }, `${new Date(o.createdAt).toLocaleString()} · ${money(o.total, o.currency)}`),
      h("ul", {}, o.items.map((i) => h("li", {}, `${i.quantity} × ${i.name}`)))))) : h("p", {}, "No orders yet."));
}

function authView(kind, params) {
  const seq = routeSeq;
  const registering = kind === "register";
  const form = h("form", { class: "stack", id: kind, onsubmit: async (e) => {
      e.preventDefault();
      const v = (n) => form.querySelector(`[name="${n}"]`).value;
      try {
        if (registering) await api("POST", "/api/v1/identity/register", { email: v("email"), password: v("password"), name: v("name") });
        const login = await api("POST", "/api/v1/identity/login", { email: v("email"), password: v("password") });
        setToken(login.token);
        await loadUser();
        renderNav();
        refreshBasketCount();
        flash(registering ? "Welcome to eshop!" : "You are logged in.", true);
        location.hash = params.get("next") || "#/";
      } catch (err) { notice(explain(err)); fieldErrors(form, err); }
    } },
    registering ? h("label", {}, "Name", h("input", { id: "a-name", name: "name", "data-field": "name", autocomplete: "name", required: true })) : null,
    h("label", {}, "Email", h("input", { id: "a-email", name: "email", "data-field": "email", type: "email", autocomplete: "username", required: true })),
    h("label", {}, "Password", h("input", { id: "a-password", name: "password", "data-field": "password", type: "password", autocomplete: registering ? "new-password" : "current-password", required: true, minlength: registering ? 10 : undefined })),
    h("button", { type: "submit" }, registering ? "Create my account" : "Log in"));
  paint(seq, h("h1", {}, registering ? "Create an account" : "Log in"), form,
    h("p", {}, registering ? h("a", { href: "#/login" }, "I have an account") : h("a", { href: "#/register" }, "Create an account")));
}

// --- routing -----------------------------------------------------------------------------------
async function route() {
  clearTimeout(orderTimer);
  const seq = ++routeSeq;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = (path || "/").split("/").filter(Boolean);
  try {
    if (parts.length === 0) await productsView(params);
    else if (parts[0] === "products" && parts[1]) await productView(parts[1]);
    else if (parts[0] === "basket") await basketView();
    else if (parts[0] === "checkout") checkoutView();
    else if (parts[0] === "orders" && parts[1]) await orderView(parts[1]);
    else if (parts[0] === "orders") await ordersView();
    else if (parts[0] === "login" || parts[0] === "register") authView(parts[0], params);
    else paint(seq, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the products")));
  } catch (e) {
    paint(seq, h("h1", {}, "Sorry"), h("p", {}, explain(e)));
  }
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = document.getElementById("q").value.trim();
  location.hash = q ? `#/?q=${encodeURIComponent(q)}` : "#/";
});
document.getElementById("nav-logout").addEventListener("click", async () => {
  try { await api("POST", "/api/v1/identity/logout"); } catch { /* the token is dropped anyway */ }
  setToken(null);
  flash("You are logged out.", true);
  location.hash = "#/";
  refreshBasketCount();
});
window.addEventListener("hashchange", () => {
  if (!state.flash) notice("");
  state.flash = false;
  route();
  main.focus({ preventScroll: true });
});
(async () => {
  await loadUser();
  renderNav();
  refreshBasketCount();
  route();
})();
