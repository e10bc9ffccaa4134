// Drives a running mlxcap server with the official openai and ollama npm clients, plain and streaming.
// Usage: MLXCAP_URL=http://127.0.0.1:11435 node smoke.mjs
// Prints one line per check and ends with "N passed, M failed"; exits 1 if any failed.
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const base = process.env.MLXCAP_URL ?? 'http://127.0.0.1:11435';
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: process.env.MLX_API_KEY ?? 'none', maxRetries: 0 });
const ollama = new Ollama({ host: base });

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

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
