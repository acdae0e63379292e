// The official Telnyx Node SDK against a running emulator; prints what it saw as one JSON object.
// Usage: TELNYX_BASE_URL=http://127.0.0.1:PORT/v2 TELNYX_API_KEY=KEY... EMULATOR_CONNECTION_ID=... \
//        EMULATOR_FROM_NUMBER=+1... node drive_emulator.mjs
import Telnyx from 'telnyx';

const DELIVERS = '+15550100000';
const STAYS_SENDING = '+15550100011';
const LISTED = ['+15557650301', '+15557650302', '+15557650303'];
const TERMINAL = new Set(['delivered', 'failed']);

const baseURL = process.env.TELNYX_BASE_URL;
const connectionId = process.env.EMULATOR_CONNECTION_ID;
const from = process.env.EMULATOR_FROM_NUMBER;
const client = new Telnyx({ apiKey: process.env.TELNYX_API_KEY, baseURL, maxRetries: 0 });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(to, extra = {}) {
  const created = await client.faxes.create({
    connection_id: connectionId,
    from,
    to,
    media_url: 'https://example.com/invoice.pdf',
    ...extra,
  });
  return created.data;
}

async function retrieveUntil(id, done) {
  const seen = [];
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const fax = (await client.faxes.retrieve(id)).data;
    if (seen.at(-1) !== fax.status) seen.push(fax.status);
    if (done(fax)) return { fax, seen };
    await sleep(20);
  }
  throw new Error(`fax ${id} never got there; statuses seen: ${seen.join(', ')}`);
}

async function errorOf(call) {
  try {
    await call();
  } catch (error) {
    return { name: error.constructor.name, status: error.status, errors: error.error?.errors ?? null };
  }
  return null;
}

const result = {};

const created = await send(DELIVERS, { client_state: 'aGVsbG8=', quality: 'very_high' });
result.created = { status: created.status, direction: created.direction, to: created.to, client_state: created.client_state };
const delivered = await retrieveUntil(created.id, (fax) => TERMINAL.has(fax.status));
result.retrieved = { statuses: delivered.seen, status: delivered.fax.status, quality: delivered.fax.quality };

const listed = [];
for (const to of LISTED) listed.push((await send(to)).id);
const firstPage = await client.faxes.list({ filter: { direction: { eq: 'outbound' } }, 'page[size]': 2 });
const secondPage = firstPage.hasNextPage() ? await firstPage.getNextPage() : null;
const filtered = await client.faxes.list({ filter: { to: { eq: LISTED[1] } } });
const everyFax = [];
for await (const fax of client.faxes.list({ 'page[size]': 1 })) everyFax.push(fax.id);
result.list = {
  sent_newest_first: [...listed].reverse().concat([created.id]),
  first_page: firstPage.data.map((fax) => fax.id),
  total_results: firstPage.meta.total_results,
  total_pages: firstPage.meta.total_pages,
  second_page: secondPage ? secondPage.data.map((fax) => fax.id) : null,
  filtered_to: filtered.data.map((fax) => fax.to),
  auto_paginated: everyFax,
};

const long = await send(STAYS_SENDING);
await retrieveUntil(long.id, (fax) => fax.status === 'sending');
const cancel = await client.faxes.actions.cancel(long.id);
const cancelled = (await client.faxes.retrieve(long.id)).data;
result.cancel = { result: cancel.data.result, status: cancelled.status, failure_reason: cancelled.failure_reason };

await client.faxes.delete(long.id);
result.deleted = await errorOf(() => client.faxes.retrieve(long.id));

const wrongKey = new Telnyx({ apiKey: 'KEYwrong', baseURL, maxRetries: 0 });
result.wrong_key = await errorOf(() => wrongKey.faxes.list());
result.bad_number = await errorOf(() => send('not-a-number'));

console.log(JSON.stringify(result));
