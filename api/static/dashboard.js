// Draws /dashboard/data every two seconds; abort buttons call the API with the page's cookie.
"use strict";
const labels = JSON.parse(document.getElementById("labels").textContent);
const POLL_MS = 2000;

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function abortButton(row, jobId) {
  const td = row.insertCell();
  const button = document.createElement("button");
  button.textContent = labels.abort;
  button.className = "abort";
  button.dataset.job = jobId;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const answer = await fetch(`/api/v1/arq/abort/${encodeURIComponent(jobId)}`, {
      method: "DELETE", credentials: "same-origin",
    });
    const body = await answer.json().catch(() => ({}));
    button.replaceWith(document.createTextNode(answer.ok ? labels.aborting : body.message || answer.status));
    refresh();
  });
  td.appendChild(button);
}

function drawRunning(rows, canAbort) {
  const body = document.getElementById("running");
  body.replaceChildren();
  for (const job of rows) {
    const row = body.insertRow();
    row.id = `running-${job.job_id}`;
    cell(row, job.job_id);
    cell(row, job.what);
    const td = cell(row, job.progress, "progress");
    if (job.percent !== null) {
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = job.percent;
      td.prepend(bar, " ");
    }
    if (canAbort) abortButton(row, job.job_id); else row.insertCell();
  }
}

function drawRecent(rows, canAbort) {
  const body = document.getElementById("recent");
  body.replaceChildren();
  for (const job of rows) {
    const row = body.insertRow();
    row.id = `job-${job.job_id}`;
    row.dataset.status = job.status;
    cell(row, job.enqueued_at ? new Date(job.enqueued_at).toLocaleString() : "");
    cell(row, job.job_id);
    cell(row, job.what);
    cell(row, job.status_text, `status status-${job.status}`);
    cell(row, job.duration, "duration");
    cell(row, job.error, "error");
    if (canAbort && job.open) abortButton(row, job.job_id); else row.insertCell();
  }
}

async function refresh() {
  try {
    const answer = await fetch("/dashboard/data", { credentials: "same-origin" });
    if (answer.status === 401) { window.location.reload(); return; }
    if (!answer.ok) throw new Error(String(answer.status));
    const data = await answer.json();
    document.getElementById("queue-name").textContent = data.queue_name;
    for (const key of ["queued", "running", "deferred"]) {
      document.getElementById(`count-${key}`).textContent = data.counts[key];
    }
    document.getElementById("count-workers").textContent = data.workers.length;
    document.getElementById("workers").textContent = data.workers.join(", ") || labels.none;
    drawRunning(data.running, data.can_abort);
    drawRecent(data.recent, data.can_abort);
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    document.getElementById("offline").hidden = true;
  } catch (error) {
    document.getElementById("offline").hidden = false;
  }
}

refresh();
setInterval(refresh, POLL_MS);
