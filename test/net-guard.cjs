// Preloaded into every Node process of a command under test (NODE_OPTIONS=--require): records, and refuses, any
// network attempt that is not to this machine's loopback, so a test can assert a command makes none. Plain
// JavaScript because it is loaded by node itself, before any TypeScript loader.
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');

const log = process.env.NET_GUARD_LOG;
const loopback = (host) => host === undefined || host === 'localhost' || /^127\./.test(host) || host === '::1' || host === '[::1]';
const record = (kind, host, port) => {
  if (log) fs.appendFileSync(log, `${JSON.stringify({ pid: process.pid, argv: process.argv.slice(1, 3), kind, host, port })}\n`);
};
const refused = (host) => Object.assign(new Error(`net-guard: network attempt to ${host} refused in this test`), { code: 'ECONNREFUSED' });

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  if (o && o.path === undefined && !loopback(o.host)) {
    record('connect', o.host, o.port);
    process.nextTick(() => this.destroy(refused(o.host)));
    return this;
  }
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  if (!loopback(host)) {
    record('dns', host);
    const cb = rest[rest.length - 1];
    if (typeof cb === 'function') return process.nextTick(() => cb(refused(host)));
  }
  return lookup.call(this, host, ...rest);
};
const promiseLookup = dns.promises.lookup;
dns.promises.lookup = function (host, ...rest) {
  if (!loopback(host)) {
    record('dns', host);
    return Promise.reject(refused(host));
  }
  return promiseLookup.call(this, host, ...rest);
};
