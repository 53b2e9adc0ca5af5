'use strict';

/**
 * `DingTalkBotClient`: the API document's Node.js SDK, on Node's global `fetch` (Node >= 18).
 *
 * Each resource describes a call (method, path, body or query, and whether the
 * `{code, message, data}` envelope is unwrapped); the client sends it, retrying
 * 429 and 503 as `Retry-After` says, with a timeout per attempt, and turns error
 * answers into the typed errors of `./errors`.
 */

const { APITimeoutError, ConnectionError, DtbotAPIError, errorFor, parseRetryAfter } = require('./errors');
const { Stream } = require('./streaming');

const VERSION = '1.0.0';
const RETRY_STATUSES = new Set([429, 503]);
const MAX_WAIT_SECONDS = 30;

function clean(values) {
  const out = {};
  for (const [key, value] of Object.entries(values || {})) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One try of a request: its AbortController, the timeout that fires it, and the caller's signal linked in. */
class Attempt {
  constructor(timeoutMs, signal) {
    this.controller = new AbortController();
    this.signal = this.controller.signal;
    this.timeoutMs = timeoutMs;
    this.timedOut = false;
    this.userSignal = signal || null;
    this.timer = null;
    this.onUserAbort = () => this.controller.abort(this.userSignal.reason);
    if (this.userSignal) {
      if (this.userSignal.aborted) this.controller.abort(this.userSignal.reason);
      else this.userSignal.addEventListener('abort', this.onUserAbort, { once: true });
    }
    this.restart();
  }

  /** Start (again) the countdown: the whole call for plain answers, the gap between chunks for streams. */
  restart() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.timeoutMs && this.timeoutMs > 0 && Number.isFinite(this.timeoutMs)) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort();
      }, this.timeoutMs);
      if (typeof this.timer.unref === 'function') this.timer.unref();
    }
  }

  done() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.userSignal) this.userSignal.removeEventListener('abort', this.onUserAbort);
  }

  /** The error to raise for a failure of fetch or of reading the body. */
  translate(error, where) {
    this.done();
    if (error instanceof DtbotAPIError) return error;
    if (this.timedOut) {
      return new APITimeoutError(`${where} did not answer within ${this.timeoutMs} ms`, { cause: error });
    }
    if (this.userSignal && this.userSignal.aborted) return error;
    const reason = error && error.cause && error.cause.message ? error.cause.message : error && error.message;
    return new ConnectionError(`cannot reach ${where}: ${reason || error}`, { cause: error });
  }
}

class APIResource {
  constructor(client) {
    this._client = client;
  }
}

class Completions extends APIResource {
  /**
   * A chat completion (OpenAI's parameters, plus `conversationId`); with `stream: true`, a `Stream` of chunks.
   * @param {object} params
   * @param {object} [options] `{timeout, signal, maxRetries, headers}`
   */
  create(params, options) {
    const body = clean(params);
    if (!Array.isArray(body.messages)) throw new TypeError('chat.completions.create needs `messages`');
    const call = { method: 'POST', path: '/chat/completions', body, envelope: false };
    return body.stream ? this._client._stream(call, options) : this._client._execute(call, options);
  }
}

class Chat extends APIResource {
  constructor(client) {
    super(client);
    this.completions = new Completions(client);
  }
}

function idPath(prefix, id, suffix = '') {
  if (typeof id !== 'string' || !id) throw new TypeError('a conversation id is needed');
  return `${prefix}/${encodeURIComponent(id)}${suffix}`;
}

class Conversations extends APIResource {
  /** A new conversation: `{userId, title, model, systemPrompt, maxTokens, temperature}`, all optional. */
  create(params = {}, options) {
    return this._client._execute({ method: 'POST', path: '/conversations', body: clean(params) }, options);
  }

  /** A page: `{conversations, pagination}`; query `{userId, page, limit, search}`. */
  list(query = {}, options) {
    const { userId, page, limit, search } = query;
    return this._client._execute(
      { method: 'GET', path: '/conversations', query: clean({ userId, page, limit, search }) },
      options,
    );
  }

  /** One conversation. */
  get(conversationId, options) {
    return this._client._execute({ method: 'GET', path: idPath('/conversations', conversationId) }, options);
  }

  /** A page of messages, oldest first: `{conversationId, messages, totalTokens, pagination}`. */
  messages(conversationId, query = {}, options) {
    const { page, limit } = query;
    return this._client._execute(
      { method: 'GET', path: idPath('/conversations', conversationId, '/messages'), query: clean({ page, limit }) },
      options,
    );
  }

  /** Remove a conversation and its messages (resolves to null). */
  delete(conversationId, options) {
    return this._client._execute({ method: 'DELETE', path: idPath('/conversations', conversationId) }, options);
  }
}

class Models extends APIResource {
  /** The catalog: `{models: [{id, name, provider, description, max_tokens, input_price, output_price, currency, available}]}`. */
  list(options) {
    return this._client._execute({ method: 'GET', path: '/models' }, options);
  }
}

class Config extends APIResource {
  /** The runtime settings in force (admin keys). */
  get(options) {
    return this._client._execute({ method: 'GET', path: '/config' }, options);
  }

  /** Change settings, e.g. `update({rateLimitPerMinute: 100})`; resolves to the settings now in force. */
  update(changes, options) {
    return this._client._execute({ method: 'PUT', path: '/config', body: changes || {} }, options);
  }
}

class DingTalk extends APIResource {
  /** `POST /dingtalk/send`, e.g. `send({sessionWebhook, msgtype: 'text', text: {content: '…'}})` → `{messageId, timestamp}`. */
  send(message, options) {
    return this._client._execute({ method: 'POST', path: '/dingtalk/send', body: message || {} }, options);
  }
}

class DingTalkBotClient {
  /**
   * @param {object} [options]
   * @param {string} [options.baseURL] e.g. `http://127.0.0.1:3000/api` (default: `DTBOT_BASE_URL`)
   * @param {string} [options.apiKey] a dtbot key, `dtb_…` (default: `DTBOT_API_KEY`)
   * @param {number} [options.timeout] milliseconds per attempt (default 60000)
   * @param {number} [options.maxRetries] retries of a 429 or 503 (default 2)
   * @param {Record<string,string>} [options.defaultHeaders]
   * @param {typeof fetch} [options.fetch] a fetch to use instead of the global one
   */
  constructor(options = {}) {
    const env = typeof process !== 'undefined' && process.env ? process.env : {};
    const baseURL = options.baseURL ?? env.DTBOT_BASE_URL;
    if (!baseURL) throw new TypeError('DingTalkBotClient needs `baseURL` (or DTBOT_BASE_URL), e.g. http://127.0.0.1:3000/api');
    this.baseURL = String(baseURL).replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? env.DTBOT_API_KEY ?? null;
    this.timeout = options.timeout ?? 60000;
    this.maxRetries = options.maxRetries ?? 2;
    this.defaultHeaders = { ...(options.defaultHeaders || {}) };
    this._fetch = options.fetch || globalThis.fetch;
    if (typeof this._fetch !== 'function') throw new TypeError('no global fetch: use Node 18 or newer, or pass `fetch`');

    this.chat = new Chat(this);
    this.conversations = new Conversations(this);
    this.models = new Models(this);
    this.config = new Config(this);
    this.dingtalk = new DingTalk(this);
  }

  /** `GET /health` (no key needed, no envelope): `{status, timestamp, version, services, uptime}`. */
  health(options) {
    return this._execute({ method: 'GET', path: '/health', envelope: false }, options);
  }

  /** `GET /stats` (admin keys). */
  stats(options) {
    return this._execute({ method: 'GET', path: '/stats' }, options);
  }

  _url(call) {
    const url = new URL(this.baseURL + call.path);
    for (const [key, value] of Object.entries(call.query || {})) url.searchParams.set(key, String(value));
    return url.toString();
  }

  _headers(call, stream, options) {
    const headers = {
      Accept: stream ? 'text/event-stream' : 'application/json',
      'User-Agent': `dingtalk-bot-sdk-node/${VERSION}`,
      ...this.defaultHeaders,
    };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    return { ...headers, ...((options && options.headers) || {}) };
  }

  /** Seconds to wait before trying again, or null when the answer stands. */
  _retryWait(response, attempt, maxRetries) {
    if (!RETRY_STATUSES.has(response.status) || attempt >= maxRetries) return null;
    const seconds = parseRetryAfter(response.headers.get('retry-after'));
    return seconds === null ? 0.5 * 2 ** attempt : Math.min(seconds, MAX_WAIT_SECONDS);
  }

  /** Send `call`, retrying 429 and 503; resolves to the final response and its (still running) attempt. */
  async _send(call, options = {}, stream = false) {
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const timeout = options.timeout ?? this.timeout;
    const init = { method: call.method, headers: this._headers(call, stream, options) };
    if (call.body !== undefined) init.body = JSON.stringify(call.body);
    const url = this._url(call);
    for (let attempt = 0; ; attempt += 1) {
      const running = new Attempt(timeout, options.signal);
      let response;
      try {
        response = await this._fetch(url, { ...init, signal: running.signal });
      } catch (error) {
        throw running.translate(error, this.baseURL);
      }
      const wait = this._retryWait(response, attempt, maxRetries);
      if (wait === null) return { response, running };
      running.done();
      if (response.body) await response.body.cancel().catch(() => {});
      await sleep(wait * 1000, options.signal);
    }
  }

  /** The answer's JSON, or the typed error; `data` unwrapped when `call.envelope` is not false. */
  async _read(response, running, call) {
    let text;
    try {
      text = await response.text();
    } catch (error) {
      throw running.translate(error, this.baseURL);
    }
    running.done();
    let body = null;
    let parsed = false;
    if (text) {
      try {
        body = JSON.parse(text);
        parsed = true;
      } catch {
        body = text;
      }
    }
    if (response.status >= 400) throw errorFor(response.status, body, response.headers);
    if (!parsed) {
      throw new DtbotAPIError('the API answered something that is not JSON', {
        status: response.status,
        requestId: response.headers.get('x-request-id'),
        body,
        headers: response.headers,
      });
    }
    const unwrap = call.envelope !== false && body && typeof body === 'object' && !Array.isArray(body) && 'data' in body;
    return unwrap ? body.data : body;
  }

  async _execute(call, options) {
    const { response, running } = await this._send(call, options || {});
    return this._read(response, running, call);
  }

  async _stream(call, options) {
    const { response, running } = await this._send(call, options || {}, true);
    if (response.status >= 400) {
      // An error before the stream began: the usual envelope, raised as a typed error.
      await this._read(response, running, call);
    }
    return new Stream(response, running, this.baseURL);
  }
}

module.exports = { DingTalkBotClient, VERSION, Chat, Completions, Conversations, Models, Config, DingTalk };
