'use strict';

// Retries, timeouts and streaming failures, against tiny local servers (no dtbot needed).

const assert = require('node:assert/strict');
const http = require('node:http');
const { describe, it, before, after } = require('node:test');

const {
  DingTalkBotClient,
  APITimeoutError,
  ConnectionError,
  RateLimitError,
  ServerError,
  DtbotAPIError,
} = require('dingtalk-bot-sdk');

/** A server answering with `handler(req, res, count)`; resolves to `{url, requests, close}`. */
async function serve(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (part) => (body += part));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, at: Date.now() });
      handler(req, res, requests.length);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/api`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-ID': 'req_local', ...headers });
  res.end(JSON.stringify(body));
}

const rateLimited = {
  code: 42901,
  message: '请求频率超限',
  data: null,
  requestId: 'req_local',
  error: { message: '请求频率超限', type: 'rate_limit_error', code: 42901 },
};

describe('retries', () => {
  it('retries a 429 once, after the Retry-After it names', async () => {
    const local = await serve((req, res, count) => {
      if (count === 1) json(res, 429, rateLimited, { 'Retry-After': '1' });
      else json(res, 200, { code: 200, message: 'success', data: { totalMessages: 7 } });
    });
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'dtb_local' });
      const started = Date.now();
      const stats = await client.stats();
      assert.deepEqual(stats, { totalMessages: 7 });
      assert.equal(local.requests.length, 2);
      const gap = local.requests[1].at - local.requests[0].at;
      assert.ok(gap >= 950, `waited only ${gap} ms`);
      assert.ok(Date.now() - started < 5000);
      assert.equal(local.requests[1].headers.authorization, 'Bearer dtb_local');
      assert.equal(local.requests[1].url, '/api/stats');
    } finally {
      await local.close();
    }
  });

  it('gives up after maxRetries with a RateLimitError carrying retryAfter', async () => {
    const local = await serve((req, res) => json(res, 429, rateLimited, { 'Retry-After': '0' }));
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k' });
      await assert.rejects(client.models.list(), (error) => {
        assert.ok(error instanceof RateLimitError);
        assert.ok(error instanceof DtbotAPIError);
        assert.equal(error.code, 42901);
        assert.equal(error.status, 429);
        assert.equal(error.retryAfter, 0);
        assert.equal(error.requestId, 'req_local');
        assert.equal(error.type, 'rate_limit_error');
        return true;
      });
      assert.equal(local.requests.length, 3); // the first try and 2 retries
      const none = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k', maxRetries: 0 });
      await assert.rejects(none.models.list(), RateLimitError);
      assert.equal(local.requests.length, 4);
    } finally {
      await local.close();
    }
  });

  it('retries a 503 but not a 500, and sends the body again', async () => {
    const local = await serve((req, res, count) => {
      if (count === 1) json(res, 503, { code: 50002, message: '数据库连接异常', data: null }, { 'Retry-After': '0' });
      else if (count === 2) json(res, 200, { code: 200, message: 'success', data: { conversationId: 'conv_1' } });
      else json(res, 500, { code: 50000, message: '服务器内部错误', data: null });
    });
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k' });
      const made = await client.conversations.create({ title: 't', model: undefined });
      assert.equal(made.conversationId, 'conv_1');
      assert.deepEqual(JSON.parse(local.requests[1].body), { title: 't' });
      await assert.rejects(client.stats(), (error) => error instanceof ServerError && error.code === 50000);
      assert.equal(local.requests.length, 3);
    } finally {
      await local.close();
    }
  });
});

describe('timeouts and connection errors', () => {
  let local;
  before(async () => {
    local = await serve(() => {}); // never answers
  });
  after(() => local.close());

  it('aborts a call that takes longer than the timeout', async () => {
    const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k', timeout: 200 });
    const started = Date.now();
    await assert.rejects(client.health(), (error) => {
      assert.ok(error instanceof APITimeoutError);
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.status, null);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });

  it('takes a per-call timeout and the caller signal', async () => {
    const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k' });
    await assert.rejects(client.health({ timeout: 100 }), APITimeoutError);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(client.health({ signal: controller.signal }), (error) => !(error instanceof APITimeoutError));
  });

  it('raises ConnectionError when nothing listens', async () => {
    const closed = await serve(() => {});
    await closed.close();
    const client = new DingTalkBotClient({ baseURL: closed.url, apiKey: 'k' });
    await assert.rejects(client.health(), (error) => error instanceof ConnectionError && error.status === null);
  });
});

describe('streams', () => {
  const chunk = (content) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

  it('parses events split across reads and stops at [DONE]', async () => {
    const local = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'X-Request-ID': 'req_stream' });
      const text = chunk('你') + ': keep-alive\n\n' + chunk('好') + 'data: [DONE]\n\n' + chunk('never');
      const bytes = Buffer.from(text);
      let at = 0;
      const step = () => {
        if (at >= bytes.length) return res.end();
        res.write(bytes.subarray(at, at + 7)); // cuts through lines and UTF-8 characters
        at += 7;
        setImmediate(step);
      };
      step();
    });
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k' });
      const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
      assert.equal(stream.requestId, 'req_stream');
      const parts = [];
      for await (const c of stream) parts.push(c.choices[0].delta.content);
      assert.deepEqual(parts, ['你', '好']);
      assert.equal(JSON.parse(local.requests[0].body).stream, true);
      assert.equal(local.requests[0].headers.accept, 'text/event-stream');
    } finally {
      await local.close();
    }
  });

  it('raises an error event sent mid-stream', async () => {
    const local = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'X-Request-ID': 'req_midstream' });
      res.write(chunk('Ec'));
      const error = { message: 'LLM服务调用失败: upstream hung up', type: 'server_error', code: 50001 };
      res.end(`data: ${JSON.stringify({ error })}\n\n`);
    });
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k' });
      const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
      const parts = [];
      await assert.rejects(
        (async () => {
          for await (const c of stream) parts.push(c.choices[0].delta.content);
        })(),
        (error) => {
          assert.ok(error instanceof ServerError);
          assert.equal(error.code, 50001);
          assert.equal(error.requestId, 'req_midstream');
          assert.match(error.message, /upstream hung up/);
          return true;
        },
      );
      assert.deepEqual(parts, ['Ec']);
    } finally {
      await local.close();
    }
  });

  it('times out a stream that goes quiet', async () => {
    const local = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(chunk('a')); // then nothing
    });
    try {
      const client = new DingTalkBotClient({ baseURL: local.url, apiKey: 'k', timeout: 300 });
      const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
      const parts = [];
      await assert.rejects(
        (async () => {
          for await (const c of stream) parts.push(c.choices[0].delta.content);
        })(),
        APITimeoutError,
      );
      assert.deepEqual(parts, ['a']);
    } finally {
      await local.close();
    }
  });
});

describe('client options', () => {
  it('needs a base URL and reads DTBOT_BASE_URL / DTBOT_API_KEY', () => {
    const saved = { base: process.env.DTBOT_BASE_URL, key: process.env.DTBOT_API_KEY };
    try {
      delete process.env.DTBOT_BASE_URL;
      assert.throws(() => new DingTalkBotClient({}), TypeError);
      process.env.DTBOT_BASE_URL = 'http://example.invalid/api/';
      process.env.DTBOT_API_KEY = 'dtb_env';
      const client = new DingTalkBotClient();
      assert.equal(client.baseURL, 'http://example.invalid/api');
      assert.equal(client.apiKey, 'dtb_env');
    } finally {
      for (const [name, value] of [
        ['DTBOT_BASE_URL', saved.base],
        ['DTBOT_API_KEY', saved.key],
      ]) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('loads as ESM too', async () => {
    const esm = await import('dingtalk-bot-sdk');
    assert.equal(esm.DingTalkBotClient, DingTalkBotClient);
    assert.equal(esm.default, DingTalkBotClient);
    assert.equal(esm.RateLimitError, RateLimitError);
  });
});
