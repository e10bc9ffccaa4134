// Drives a running mlxcap server with the official openai and ollama npm clients, plain and streaming.
// Usage: MLXCAP_URL=http://127.0.0.1:11435 [MLX_API_KEY=key] node smoke.mjs
// With MLX_API_KEY set, both clients send it (the ollama client as an Authorization header).
// Prints one line per check and ends with "N passed, M failed"; exits 1 if any failed.
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const base = process.env.MLXCAP_URL ?? 'http://127.0.0.1:11435';
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: process.env.MLX_API_KEY ?? 'none', maxRetries: 0 });
const key = process.env.MLX_API_KEY;
const ollama = new Ollama({ host: base, headers: key ? { Authorization: `Bearer ${key}` } : {} });

let passed = 0;
let failed = 0;
async function check(name, body) {
  try {
    await body();
    passed++;
    console.log(`ok    ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${e?.stack ?? e}`);
  }
}
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

await check('openai chat.completions.create', async () => {
  const r = await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hello' }], max_tokens: 6 });
  expect(r.choices[0].message.role === 'assistant', 'role');
  expect(r.choices[0].message.content.length === 6, `content ${JSON.stringify(r.choices[0].message.content)}`);
  expect(r.usage.completion_tokens === 6, 'usage');
});

await check('openai chat.completions.create stream', async () => {
  const stream = await openai.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, stream: true });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  expect(text.length === 5, `streamed ${JSON.stringify(text)}`);
  expect(chunks >= 6, `chunks ${chunks}`);
});

await check('openai completions.create', async () => {
  const r = await openai.completions.create({ model: 'fast', prompt: 'abc', max_tokens: 4 });
  expect(r.choices[0].text.length === 4, 'text');
});

await check('openai models.list', async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  expect(ids.includes('fast') && ids.includes('qwen2.5-coder:32b'), ids.join(','));
});

await check('openai unknown model is a 404 APIError', async () => {
  try {
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    throw new Error('no error');
  } catch (e) {
    expect(e.status === 404, `status ${e.status}`);
    expect(String(e.message).includes('not found'), e.message);
  }
});

await check('ollama chat', async () => {
  const r = await ollama.chat({ model: 'fast', messages: [{ role: 'user', content: 'hello' }], options: { num_predict: 4 } });
  expect(r.message.content.length === 4, JSON.stringify(r.message));
  expect(r.done === true && r.eval_count === 4, 'done');
});

await check('ollama chat stream', async () => {
  const stream = await ollama.chat({ model: 'reasoning', messages: [{ role: 'user', content: 'hi' }], stream: true, options: { num_predict: 3 } });
  let text = '';
  let done = false;
  for await (const part of stream) {
    text += part.message.content;
    done = part.done;
  }
  expect(text.length === 3 && done, `streamed ${JSON.stringify(text)} done=${done}`);
});

await check('ollama generate stream', async () => {
  const stream = await ollama.generate({ model: 'fast', prompt: 'x', stream: true, options: { num_predict: 2 } });
  let text = '';
  for await (const part of stream) text += part.response;
  expect(text.length === 2, JSON.stringify(text));
});

await check('ollama list and ps', async () => {
  const tags = await ollama.list();
  expect(tags.models.length === 4, `tags ${tags.models.length}`);
  const ps = await ollama.ps();
  expect(ps.models.length >= 1, 'ps lists the loaded models');
});

await check('openai models.retrieve, and a 404 with its message', async () => {
  const m = await openai.models.retrieve('qwen2.5-coder:32b');
  expect(m.id === 'qwen2.5-coder:32b', JSON.stringify(m));
  try {
    await openai.models.retrieve('gpt-x');
    throw new Error('no error');
  } catch (e) {
    expect(e.status === 404 && String(e.message).includes("model 'gpt-x' not found"), e.message);
  }
});

await check('openai stop sequence', async () => {
  const whole = await openai.completions.create({ model: 'fast', prompt: 'abc', max_tokens: 10, temperature: 0 });
  const text = whole.choices[0].text;
  const stop = text.slice(4, 6);
  const cut = await openai.completions.create({ model: 'fast', prompt: 'abc', max_tokens: 10, temperature: 0, stop: [stop] });
  expect(cut.choices[0].text === text.slice(0, text.indexOf(stop)), `${JSON.stringify(cut.choices[0].text)} from ${JSON.stringify(text)}`);
  expect(cut.choices[0].finish_reason === 'stop', cut.choices[0].finish_reason);
});

await check('ollama show, :latest, keep_alive 0 unloads', async () => {
  const shown = await ollama.show({ model: 'fast:latest' });
  expect(shown.details.family === 'mlxcap', JSON.stringify(shown.details));
  await ollama.generate({ model: 'fast', prompt: 'x', options: { num_predict: 1 }, keep_alive: '5m' });
  expect((await ollama.ps()).models.some((m) => m.name === 'phi3.5:3.8b'), 'loaded');
  const r = await ollama.generate({ model: 'fast', prompt: '', keep_alive: 0 });
  expect(r.done_reason === 'unload', JSON.stringify(r));
  expect(!(await ollama.ps()).models.some((m) => m.name === 'phi3.5:3.8b'), 'unloaded');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
