'use strict';

/**
 * Server-sent events as an async iterator of chunks: `for await (const chunk of stream)`.
 * `data: [DONE]` ends it; a `data: {"error": {...}}` event (a failure after the stream
 * began) is raised as a typed error. Breaking out of the loop closes the connection.
 */

const { errorFor } = require('./errors');

class Stream {
  /**
   * @param {Response} response
   * @param {{controller: AbortController, restart(): void, done(): void, translate(e: unknown, where: string): Error}} running
   * @param {string} where the base URL, for error messages
   */
  constructor(response, running, where) {
    this.response = response;
    this.controller = running.controller;
    this.requestId = response.headers.get('x-request-id');
    this._running = running;
    this._where = where;
    this._iterator = null;
  }

  [Symbol.asyncIterator]() {
    if (this._iterator) throw new Error('a stream can be iterated only once');
    this._iterator = this._chunks();
    return this._iterator;
  }

  /** Every chunk, once the stream has ended. */
  async toArray() {
    const chunks = [];
    for await (const chunk of this) chunks.push(chunk);
    return chunks;
  }

  async *_chunks() {
    const running = this._running;
    const body = this.response.body;
    if (!body) {
      running.done();
      return;
    }
    const reader = body.getReader();
    const decoder = new TextDecoder('utf-8');
    let buffer = '';
    let data = [];
    let finished = false;
    try {
      for (;;) {
        let result;
        running.restart();
        try {
          result = await reader.read();
        } catch (error) {
          throw running.translate(error, this._where);
        }
        buffer += result.done ? decoder.decode() : decoder.decode(result.value, { stream: true });
        const lines = buffer.split(/\r\n|\r|\n/);
        buffer = result.done ? '' : lines.pop();
        if (result.done) lines.push('');
        for (const line of lines) {
          if (line === '') {
            if (data.length) {
              const payload = data.join('\n');
              data = [];
              if (payload.trim() === '[DONE]') {
                finished = true;
                return;
              }
              yield this._chunk(payload);
            }
          } else if (line.startsWith('data:')) {
            data.push(line.slice(5).replace(/^ /, ''));
          }
          // `event:`, `id:`, `retry:` and `:` comments carry nothing the SDK needs.
        }
        if (result.done) {
          finished = true;
          return;
        }
      }
    } finally {
      running.done();
      if (!finished) {
        await reader.cancel().catch(() => {});
        this.controller.abort();
      }
    }
  }

  _chunk(payload) {
    let value;
    try {
      value = JSON.parse(payload);
    } catch {
      throw errorFor(502, { message: `the stream sent something that is not JSON: ${payload.slice(0, 200)}` }, this.response.headers);
    }
    if (value && typeof value === 'object' && value.error && typeof value.error === 'object') {
      const status = Number.isInteger(value.error.status) ? value.error.status : 503;
      throw errorFor(status, value, this.response.headers);
    }
    return value;
  }
}

module.exports = { Stream };
