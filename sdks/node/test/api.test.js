'use strict';

// The SDK against a running `dtbot serve` whose providers answer `Echo: <last user message>`.
// Needs DTBOT_BASE_URL (the /api base) and DTBOT_API_KEY (an admin key); skipped without them.

const assert = require('node:assert/strict');
const { describe, it, after } = require('node:test');

const {
  DingTalkBotClient,
  DtbotAPIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  Stream,
} = require('dingtalk-bot-sdk');

const baseURL = process.env.DTBOT_BASE_URL;
const apiKey = process.env.DTBOT_API_KEY;
const skip = baseURL && apiKey ? false : 'set DTBOT_BASE_URL and DTBOT_API_KEY to run against a server';

describe('dingtalk-bot-sdk against dtbot', { skip }, () => {
  const client = skip ? null : new DingTalkBotClient({ baseURL, apiKey, timeout: 20000 });

  it('runs the API document example', async () => {
    const response = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: '你好' }],
    });
    assert.equal(response.object, 'chat.completion');
    assert.equal(response.choices[0].message.content, 'Echo: 你好');
    assert.equal(response.model, 'gpt-4');
    assert.ok(response.usage.total_tokens > 0);

    const conversation = await client.conversations.create({ userId: 'user_123', title: '新的对话', model: 'gpt-4' });
    assert.match(conversation.conversationId, /^conv_/);
    await client.conversations.delete(conversation.conversationId);
  });

  it('streams chunks as an async iterator', async () => {
    const stream = await client.chat.completions.create({
      model: 'glm-4',
      messages: [{ role: 'user', content: '写一篇关于AI的文章' }],
      stream: true,
    });
    assert.ok(stream instanceof Stream);
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.choices[0] && chunk.choices[0].delta.content) text += chunk.choices[0].delta.content;
    }
    assert.equal(text, 'Echo: 写一篇关于AI的文章');
    assert.ok(chunks >= 2);
  });

  it('streams with usage, and can stop early', async () => {
    const chunks = await (
      await client.chat.completions.create({
        model: 'qwen-turbo',
        messages: [{ role: 'user', content: 'usage' }],
        stream: true,
        stream_options: { include_usage: true },
      })
    ).toArray();
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.total_tokens > 0);

    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'stop early' }],
      stream: true,
    });
    for await (const chunk of stream) {
      assert.ok(chunk.id);
      break; // closes the connection
    }
    assert.ok(stream.controller.signal.aborted);
  });

  it('creates, lists, reads, chats in and deletes a conversation', async () => {
    const userId = `node_sdk_${Date.now()}`;
    const conversation = await client.conversations.create({
      userId,
      title: 'Node SDK 会话',
      model: 'glm-4',
      systemPrompt: '简短回答',
      temperature: 0.5,
    });
    const id = conversation.conversationId;
    assert.equal(conversation.userId, userId);
    assert.equal(conversation.model, 'glm-4');
    assert.equal(conversation.messageCount, 0);

    const answer = await client.chat.completions.create({
      conversationId: id,
      messages: [{ role: 'user', content: '一' }],
    });
    assert.equal(answer.model, 'glm-4');
    assert.equal(answer.choices[0].message.content, 'Echo: 一');

    const page = await client.conversations.messages(id, { page: 1, limit: 10 });
    assert.equal(page.conversationId, id);
    assert.deepEqual(
      page.messages.map((m) => [m.role, m.content]),
      [
        ['user', '一'],
        ['assistant', 'Echo: 一'],
      ],
    );
    assert.ok(page.totalTokens > 0);
    assert.equal(page.pagination.total, 2);

    const listed = await client.conversations.list({ userId, page: 1, limit: 5 });
    assert.deepEqual(
      listed.conversations.map((c) => c.conversationId),
      [id],
    );
    assert.equal(listed.pagination.total, 1);
    const searched = await client.conversations.list({ search: 'Node SDK' });
    assert.ok(searched.conversations.some((c) => c.conversationId === id));

    const fetched = await client.conversations.get(id);
    assert.equal(fetched.messageCount, 2);
    assert.equal(fetched.title, 'Node SDK 会话');

    assert.equal(await client.conversations.delete(id), null);
    await assert.rejects(client.conversations.get(id), (error) => {
      assert.ok(error instanceof NotFoundError);
      assert.ok(error instanceof DtbotAPIError);
      assert.equal(error.code, 40401);
      assert.equal(error.status, 404);
      assert.match(error.requestId, /\S/);
      return true;
    });
    await assert.rejects(client.conversations.messages(id), NotFoundError);
  });

  it('lists the models', async () => {
    const { models } = await client.models.list();
    const ids = models.map((m) => m.id);
    for (const id of ['gpt-4', 'glm-4', 'qwen-turbo', 'claude-3-sonnet']) assert.ok(ids.includes(id), id);
    const gpt4 = models.find((m) => m.id === 'gpt-4');
    assert.equal(gpt4.available, true);
    assert.equal(typeof gpt4.input_price, 'number');
    assert.ok(gpt4.provider && gpt4.currency && gpt4.max_tokens > 0);
  });

  it('reads health (no envelope) and stats', async () => {
    const health = await client.health();
    assert.equal(health.services.database, 'healthy');
    assert.ok(['healthy', 'degraded'].includes(health.status));
    assert.equal(typeof health.uptime, 'number');
    assert.ok(health.version);
    const keyless = new DingTalkBotClient({ baseURL, apiKey: null });
    assert.equal((await keyless.health()).services.database, 'healthy');

    const stats = await client.stats();
    for (const field of ['totalUsers', 'totalConversations', 'totalMessages', 'todayMessages', 'totalTokens']) {
      assert.equal(typeof stats[field], 'number', field);
    }
    assert.equal(typeof stats.modelUsage, 'object');
  });

  describe('config', () => {
    let original = null;
    after(async () => {
      if (original) await client.config.update({ maxTokensPerRequest: original.maxTokensPerRequest });
    });

    it('gets and updates the runtime settings', async () => {
      original = await client.config.get();
      assert.equal(typeof original.maxTokensPerRequest, 'number');
      const changed = original.maxTokensPerRequest === 3000 ? 3100 : 3000;
      const updated = await client.config.update({ maxTokensPerRequest: changed });
      assert.equal(updated.maxTokensPerRequest, changed);
      assert.equal((await client.config.get()).maxTokensPerRequest, changed);
      await assert.rejects(client.config.update({ noSuchSetting: 1 }), (error) => {
        assert.ok(error instanceof BadRequestError);
        assert.equal(error.code, 40003);
        return true;
      });
      const restored = await client.config.update({ maxTokensPerRequest: original.maxTokensPerRequest });
      assert.equal(restored.maxTokensPerRequest, original.maxTokensPerRequest);
    });
  });

  it('raises a typed 400 for an unknown model, with code and request id', async () => {
    const messages = [{ role: 'user', content: 'x' }];
    await assert.rejects(client.chat.completions.create({ model: 'gpt-99', messages }), (error) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 40004);
      assert.equal(error.status, 400);
      assert.match(error.requestId, /^req_/);
      assert.match(error.message, /模型不支持/);
      assert.equal(typeof error.type, 'string');
      return true;
    });
    // Before the stream begins, a streaming request fails the same way.
    await assert.rejects(client.chat.completions.create({ model: 'gpt-99', messages, stream: true }), (error) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 40004);
      return true;
    });
  });

  it('sends our own request id and gets it back on errors', async () => {
    await assert.rejects(
      client.conversations.get('conv_does_not_exist', { headers: { 'X-Request-ID': 'node-sdk-test-1' } }),
      (error) => error instanceof NotFoundError && error.requestId === 'node-sdk-test-1',
    );
  });

  it('raises AuthenticationError for a wrong key', async () => {
    const wrong = new DingTalkBotClient({ baseURL, apiKey: 'dtb_wrong_key' });
    await assert.rejects(wrong.stats(), (error) => {
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.code, 40001);
      assert.equal(error.status, 401);
      assert.ok(error.requestId);
      return true;
    });
    await assert.rejects(
      wrong.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }),
      AuthenticationError,
    );
  });

  it('refuses a DingTalk send to a webhook off the allow list', async () => {
    await assert.rejects(
      client.dingtalk.send({ sessionWebhook: 'http://127.0.0.1:9/x', msgtype: 'text', text: { content: 'x' } }),
      (error) => error instanceof BadRequestError && error.code === 40003,
    );
  });
});
