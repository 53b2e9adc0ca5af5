import sdk from './index.js';

export const {
  DingTalkBotClient,
  VERSION,
  Stream,
  DtbotAPIError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  RateLimitError,
  ServerError,
  ConnectionError,
  APIConnectionError,
  APITimeoutError,
} = sdk;
export default DingTalkBotClient;
