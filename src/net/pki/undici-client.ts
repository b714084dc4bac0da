// undici's Client with its request API, loaded without the package index. The index also
// loads fetch, cookies, WebSocket and Node's own bundled undici, none of which miprobe uses;
// that was about 40 ms of every diagnosis' start. The assignment below is the one line of
// undici's index.js that gives dispatchers their request methods.
import Client from 'undici/lib/dispatcher/client.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';

Object.assign(Dispatcher.prototype, api);

export { Client };
