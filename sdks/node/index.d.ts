// Type definitions for dingtalk-bot-sdk (hand-written; the package is plain JavaScript).

export declare const VERSION: string;

export interface ClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000/api` (default: `process.env.DTBOT_BASE_URL`). */
  baseURL?: string;
  /** A dtbot API key, `dtb_…` (default: `process.env.DTBOT_API_KEY`). */
  apiKey?: string | null;
  /** Milliseconds per attempt (for streams: before the answer begins, then between chunks). Default 60000. */
  timeout?: number;
  /** How often a 429 or 503 is retried, waiting as `Retry-After` says. Default 2. */
  maxRetries?: number;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Options of one call. */
export interface RequestOptions {
  timeout?: number;
  maxRetries?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

// ---- chat ----------------------------------------------------------------

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessageParam {
  role: ChatRole;
  content: string | ChatContentPart[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: ToolCall[];
  [key: string]: unknown;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletionCreateParamsBase {
  /** A catalog id (`gpt-4`, `glm-4`, `qwen-turbo`, `claude-3-sonnet`, …); missing: the runtime `defaultModel`. */
  model?: string;
  messages: ChatMessageParam[];
  /** dtbot: chat inside a stored conversation (send only the new messages). */
  conversationId?: string;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  response_format?: Record<string, unknown>;
  tools?: Array<Record<string, unknown>>;
  tool_choice?: string | Record<string, unknown>;
  user?: string;
  n?: 1;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}

export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}

export type ChatCompletionCreateParams = ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming;

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [key: string]: unknown;
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ToolCall[];
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatCompletionMessage;
    finish_reason: string | null;
    [key: string]: unknown;
  }>;
  usage?: CompletionUsage;
  [key: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string | null; tool_calls?: unknown[]; [key: string]: unknown };
    finish_reason: string | null;
    [key: string]: unknown;
  }>;
  /** Only in the last chunk, with `stream_options: {include_usage: true}` (then `choices` is empty). */
  usage?: CompletionUsage | null;
  [key: string]: unknown;
}

/** Server-sent chunks: `for await (const chunk of stream)`; a failure mid-stream is thrown as a `DtbotAPIError`. */
export declare class Stream<T = ChatCompletionChunk> implements AsyncIterable<T> {
  readonly response: Response;
  /** Abort it to hang up. */
  readonly controller: AbortController;
  readonly requestId: string | null;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Every chunk, once the stream has ended. */
  toArray(): Promise<T[]>;
}

export declare class Completions {
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
  create(
    params: ChatCompletionCreateParams,
    options?: RequestOptions,
  ): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
}

export declare class Chat {
  readonly completions: Completions;
}

// ---- conversations -------------------------------------------------------

export interface ConversationCreateParams {
  userId?: string;
  title?: string;
  model?: string;
  systemPrompt?: string;
  maxTokens?: number;
  temperature?: number;
}

export interface Conversation {
  conversationId: string;
  userId: string | null;
  title: string;
  model: string;
  systemPrompt: string;
  maxTokens: number | null;
  temperature: number | null;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  tokenUsage: number;
  [key: string]: unknown;
}

export interface Pagination {
  total: number;
  page: number;
  limit: number;
  totalPages: number;
}

export interface ConversationListParams {
  userId?: string;
  page?: number;
  limit?: number;
  search?: string;
}

export interface ConversationList {
  conversations: Conversation[];
  pagination: Pagination;
}

export interface ConversationMessage {
  messageId: string;
  role: ChatRole;
  content: string;
  timestamp: string;
  tokens: number;
  cutOff: boolean;
  [key: string]: unknown;
}

export interface ConversationMessages {
  conversationId: string;
  messages: ConversationMessage[];
  totalTokens: number;
  pagination: Pagination;
}

export declare class Conversations {
  create(params?: ConversationCreateParams, options?: RequestOptions): Promise<Conversation>;
  list(query?: ConversationListParams, options?: RequestOptions): Promise<ConversationList>;
  get(conversationId: string, options?: RequestOptions): Promise<Conversation>;
  messages(
    conversationId: string,
    query?: { page?: number; limit?: number },
    options?: RequestOptions,
  ): Promise<ConversationMessages>;
  delete(conversationId: string, options?: RequestOptions): Promise<null>;
}

// ---- models, health, stats, config, dingtalk -------------------------------

export interface Model {
  id: string;
  name: string;
  provider: string;
  description: string;
  max_tokens: number;
  input_price: number;
  output_price: number;
  currency: string;
  available: boolean;
  [key: string]: unknown;
}

export declare class Models {
  list(options?: RequestOptions): Promise<{ models: Model[] }>;
}

export interface Health {
  status: 'healthy' | 'degraded' | 'unhealthy' | string;
  timestamp: string;
  version: string;
  services: {
    database: string;
    redis: string;
    llm_providers: Record<string, string>;
    [key: string]: unknown;
  };
  uptime: number;
}

export interface Stats {
  totalUsers: number;
  totalConversations: number;
  totalMessages: number;
  todayMessages: number;
  totalTokens: number;
  todayTokens: number;
  modelUsage: Record<string, number>;
  [key: string]: unknown;
}

export interface Settings {
  maxTokensPerRequest: number;
  defaultModel: string;
  rateLimitPerMinute: number;
  enableStreamResponse: boolean;
  enableLogging: boolean;
  logLevel: string;
  [key: string]: unknown;
}

export declare class Config {
  get(options?: RequestOptions): Promise<Settings>;
  update(changes: Partial<Settings>, options?: RequestOptions): Promise<Settings>;
}

export interface DingTalkSendParams {
  /** A `sessionWebhook` from a received message (on the server's allow list). */
  sessionWebhook?: string;
  msgtype: 'text' | 'markdown' | 'actionCard' | 'link' | string;
  text?: { content: string };
  markdown?: { title: string; text: string };
  at?: { atUserIds?: string[]; atMobiles?: string[]; isAtAll?: boolean };
  [key: string]: unknown;
}

export declare class DingTalk {
  send(message: DingTalkSendParams, options?: RequestOptions): Promise<{ messageId: string; timestamp: string }>;
}

export declare class DingTalkBotClient {
  constructor(options?: ClientOptions);
  readonly baseURL: string;
  readonly apiKey: string | null;
  timeout: number;
  maxRetries: number;
  readonly chat: Chat;
  readonly conversations: Conversations;
  readonly models: Models;
  readonly config: Config;
  readonly dingtalk: DingTalk;
  /** `GET /health` (no key needed, no envelope). */
  health(options?: RequestOptions): Promise<Health>;
  /** `GET /stats` (admin keys). */
  stats(options?: RequestOptions): Promise<Stats>;
}

// ---- errors -------------------------------------------------------------------

export interface ErrorDetails {
  code?: number | null;
  status?: number | null;
  requestId?: string | null;
  type?: string | null;
  body?: unknown;
  headers?: Headers | null;
  cause?: unknown;
}

/** The API answered with an error (or could not be reached: `status` is then null). */
export declare class DtbotAPIError extends Error {
  constructor(message: string, details?: ErrorDetails);
  /** The business code, e.g. 40001, 40004, 40401, 42901, 50001. */
  readonly code: number | null;
  /** The HTTP status. */
  readonly status: number | null;
  /** The request id (`X-Request-ID`), to find the call in the server's logs. */
  readonly requestId: string | null;
  /** The kind: the server's `error.type`, else one per class (`invalid_request_error`, `rate_limit_error`, …). */
  readonly type: string | null;
  readonly body: unknown;
  readonly headers: Headers | null;
}
/** 400: 40003 bad parameters, 40004 unsupported model, 40005 token limit. */
export declare class BadRequestError extends DtbotAPIError {}
/** 401: 40001 missing or wrong API key. */
export declare class AuthenticationError extends DtbotAPIError {}
/** 403: 40301 the key's role may not do this. */
export declare class PermissionDeniedError extends DtbotAPIError {}
/** 404: 40401 no such conversation, key or route. */
export declare class NotFoundError extends DtbotAPIError {}
/** 429: 42901; `retryAfter` in seconds. */
export declare class RateLimitError extends DtbotAPIError {
  constructor(message: string, details?: ErrorDetails & { retryAfter?: number | null });
  readonly retryAfter: number | null;
}
/** 5xx: 50001 LLM, 50002 database, 50003 cache, 50201 DingTalk, 50000 internal. */
export declare class ServerError extends DtbotAPIError {}
/** The API could not be reached. */
export declare class ConnectionError extends DtbotAPIError {}
export { ConnectionError as APIConnectionError };
/** The API did not answer within `timeout` ms. */
export declare class APITimeoutError extends ConnectionError {}

export default DingTalkBotClient;
