// The Faxes page: rows and roll-up drawn from the page's JSON, refreshed every few seconds while any
// fax is in flight, without reloading. Everything from the data goes in with textContent, never as markup.
(function () {
  "use strict";

  var POLL_MS = 3000;
  var page = null;
  var timer = null;
  var busy = false;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // Links lead into the Airflow UI. Framed by it, the page sits in a sandbox that may not navigate the
  // top window itself, so the navigation is made by a link of the top (same-origin) document instead.
  function openInAirflow(event) {
    if (window.top === window || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    try {
      var topDocument = window.top.document;
      var link = topDocument.createElement("a");
      link.href = event.currentTarget.href;
      topDocument.body.appendChild(link);
      event.preventDefault();
      link.click();
      link.remove();
    } catch (error) {
      // A cross-origin parent: leave the link (target=_top) to the browser.
    }
  }

  function airflowLink(text, path) {
    // Paths come from the server, built from URL-encoded pieces; anything else is shown as text.
    if (!path || path.charAt(0) !== "/" || path.charAt(1) === "/") return el("span", text);
    var link = el("a", text);
    link.href = path;
    link.target = "_top";
    link.addEventListener("click", openInAirflow);
    return link;
  }

  function cell(row, content, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content === null || content === undefined ? "" : String(content);
    row.appendChild(td);
    return td;
  }

  function badge(outcome, status) {
    return el("span", status, "badge " + outcome);
  }

  // "2026-01-05T10:00:00.123Z" as "2026-01-05 10:00:00 UTC"; anything else as it came.
  function when(text) {
    var moment = new Date(text);
    if (!text || isNaN(moment.getTime())) return text;
    return moment.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function taskText(row) {
    return row.map_index !== null && row.map_index >= 0 ? row.task_id + " [" + row.map_index + "]" : row.task_id;
  }

  function faxRow(row) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-fax-id", row.fax_id);
    tr.setAttribute("data-dag-id", row.dag_id);
    tr.setAttribute("data-run-id", row.run_id);
    cell(tr, when(row.created_at), "created").title = row.created_at;
    cell(tr, row.direction, "direction");
    cell(tr, badge(row.outcome, row.status), "status");
    cell(tr, row.failure_reason, "failure-reason");
    cell(tr, row.page_count, "pages");
    cell(tr, row.from_number, "from");
    cell(tr, row.to_number, "to");
    cell(tr, row.dag_id ? row.dag_id : el("span", "not sent by a DAG", "muted"), "dag");
    cell(tr, row.run_id ? airflowLink(row.run_id, row.run_url) : "", "run");
    cell(tr, row.task_id ? airflowLink(taskText(row), row.task_instance_url) : "", "task");
    cell(tr, row.fax_id, "fax-id");
    return tr;
  }

  function rollupRow(line) {
    var tr = document.createElement("tr");
    tr.className = line.run_id ? "run-line" : "dag-line";
    tr.setAttribute("data-dag-id", line.dag_id);
    tr.setAttribute("data-run-id", line.run_id);
    cell(tr, line.dag_id ? line.dag_id : el("span", "not sent by a DAG", "muted"), "dag");
    cell(tr, line.run_id ? airflowLink(line.run_id, line.run_url) : el("span", "all runs", "muted"), "run");
    cell(tr, line.total, "total");
    cell(tr, line.delivered, "delivered");
    cell(tr, line.failed, "failed");
    var reasons = document.createElement("ul");
    reasons.className = "reasons";
    line.failed_by_reason.forEach(function (item) {
      reasons.appendChild(el("li", item.reason + ": " + item.count));
    });
    cell(tr, reasons, "failed-by-reason");
    cell(tr, line.pending, "pending");
    return tr;
  }

  function replaceRows(table, rows, draw) {
    var body = page.querySelector("table." + table + " tbody");
    var fresh = document.createElement("tbody");
    rows.forEach(function (row) { fresh.appendChild(draw(row)); });
    body.replaceWith(fresh);
  }

  function fillDagFilter(dagIds) {
    var select = page.querySelector("select.dag-filter");
    if (!select) return;
    var chosen = select.getAttribute("data-chosen") || "";
    var known = {};
    Array.prototype.forEach.call(select.options, function (option) { known[option.value] = true; });
    dagIds.forEach(function (dagId) {
      if (known[dagId]) return;
      var option = el("option", dagId);
      option.value = dagId;
      if (dagId === chosen) option.selected = true;
      select.appendChild(option);
    });
  }

  function setText(selector, text) {
    var node = page.querySelector(selector);
    node.textContent = text;
    node.hidden = !text;
  }

  function draw(data) {
    replaceRows("rollup", data.rollup, rollupRow);
    replaceRows("faxes", data.rows, faxRow);
    fillDagFilter(data.dag_ids);
    var summary = data.rows.length + " of " + data.listed + " faxes since " + data.since + " shown";
    if (data.truncated) summary += "; the listing stopped early: narrow the window";
    setText(".summary", summary + (data.masked ? ". Numbers are masked." : "."));
    setText(".error", "");
    page.setAttribute("data-in-flight", String(data.in_flight));
  }

  async function load() {
    if (busy) return;
    busy = true;
    window.clearTimeout(timer);
    var live = false;
    try {
      var response = await fetch(page.getAttribute("data-json-url"), { cache: "no-store", credentials: "same-origin" });
      var data = await response.json().catch(function () { return {}; });
      if (!response.ok) {
        setText(".error", data.detail ? String(data.detail) : "The faxes could not be loaded (HTTP " + response.status + ").");
        setText(".live-status", "Not refreshing: reload the page to try again.");
        return;
      }
      draw(data);
      live = data.in_flight > 0;
      setText(".live-status", live
        ? data.in_flight + " in flight: refreshing every " + POLL_MS / 1000 + " s (updated " + new Date().toLocaleTimeString() + ")."
        : "Every fax shown is final (updated " + new Date().toLocaleTimeString() + ").");
    } catch (error) {
      setText(".live-status", "Can't reach the api-server; retrying.");
      live = true;
    } finally {
      busy = false;
      if (live) timer = window.setTimeout(load, POLL_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    page = document.getElementById("faxes-page");
    if (!page) return;
    page.querySelector("button.refresh").addEventListener("click", load);
    page.querySelectorAll("form.filters select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    load();
  });
})();
