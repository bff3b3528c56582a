/** The caching reverse proxy behind `codeai-cache serve`. */

export { PROXY_DEFAULTS, type ProxyOptions } from './options.js';
export { createProxy, type Proxy, type ProxyAddress } from './proxy.js';
