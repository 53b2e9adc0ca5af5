'use strict';

const client = require('./lib/client');
const errors = require('./lib/errors');
const { Stream } = require('./lib/streaming');

module.exports = {
  DingTalkBotClient: client.DingTalkBotClient,
  VERSION: client.VERSION,
  Stream,
  DtbotAPIError: errors.DtbotAPIError,
  BadRequestError: errors.BadRequestError,
  AuthenticationError: errors.AuthenticationError,
  PermissionDeniedError: errors.PermissionDeniedError,
  NotFoundError: errors.NotFoundError,
  RateLimitError: errors.RateLimitError,
  ServerError: errors.ServerError,
  ConnectionError: errors.ConnectionError,
  APIConnectionError: errors.APIConnectionError,
  APITimeoutError: errors.APITimeoutError,
};
module.exports.default = module.exports.DingTalkBotClient;
// So that TypeScript's `import DingTalkBotClient from 'dingtalk-bot-sdk'` finds the class (as index.d.ts says).
Object.defineProperty(module.exports, '__esModule', { value: true });
