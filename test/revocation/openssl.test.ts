// Interop, so the PKI is not only checked against itself (127.80.2.0/24):
// openssl verifies the CRLs and OCSP answers the simulation serves (and asks
// the simulated responder itself), and miprobe reads the right status from a
// real `openssl ocsp -index` responder and from a CRL made by `openssl ca -gencrl`.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AddressGuard } from '../../src/net/guard.js';
import { boundedFetch } from '../../src/net/pki/http.js';
import { checkCrl } from '../../src/net/pki/crl.js';
import { checkOcsp } from '../../src/net/pki/ocsp.js';
import { x509 } from '../../src/net/pki/crypto.js';
import { checkChainRevocation } from '../../src/net/pki/revocation.js';
import { createSimPki } from '../../src/sim/pki.js';
import { startRevocationResponders } from '../../src/sim/revocation-responders.js';

const run = promisify(execFile);
const guard = AddressGuard.fromList('127.80.2.0/24');

async function openssl(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('openssl', args, { cwd, timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

t.test('openssl verifies what the simulation serves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-rev-'));
  const responders = await startRevocationResponders({ host: '127.80.2.10' });
  t.teardown(() => responders.close());
  const pki = await createSimPki({ ...responders.pkiUrls, name: 'interop' });
  responders.setPki(pki);
  const good = await pki.issueLeaf({ hostnames: ['good.sim.test'] });
  const bad = await pki.issueLeaf({ hostnames: ['revoked.sim.test'] });
  pki.revoke(bad.serialHex, 'keyCompromise');
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  writeFileSync(join(dir, 'int.pem'), pki.intermediatePem);
  writeFileSync(join(dir, 'good.pem'), good.certPem);
  writeFileSync(join(dir, 'bad.pem'), bad.certPem);

  t.match((await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'good.pem'], dir)).out, /good.pem: OK/);

  const crl = await boundedFetch(responders.urls.crl, { guard, timeoutMs: 3000, maxBytes: 1 << 20 });
  t.ok(crl.ok, 'the CRL is served over HTTP');
  if (!crl.ok) return;
  writeFileSync(join(dir, 'int.crl'), crl.body);
  const v = await openssl(['crl', '-inform', 'DER', '-in', 'int.crl', '-CAfile', 'int.pem', '-verify', '-noout', '-text'], dir);
  t.match(v.out, /verify OK/, 'openssl crl -verify accepts the served CRL');
  t.match(v.out, new RegExp(`Serial Number: ${bad.serialHex.toUpperCase()}`), 'the revoked serial is listed');
  t.match(v.out, /Key Compromise/);
  writeFileSync(join(dir, 'forged.crl'), await pki.crl('intermediate', { badSignature: true }));
  t.match((await openssl(['crl', '-inform', 'DER', '-in', 'forged.crl', '-CAfile', 'int.pem', '-verify', '-noout'], dir)).out,
    /verify failure/, 'and rejects the bad-signature one');

  // The CRL with openssl verify -crl_check on the whole chain.
  await openssl(['crl', '-inform', 'DER', '-in', 'int.crl', '-out', 'int.crl.pem'], dir);
  const rootCrl = await boundedFetch(responders.urls.rootCrl, { guard, timeoutMs: 3000, maxBytes: 1 << 20 });
  if (rootCrl.ok) writeFileSync(join(dir, 'root.crl'), rootCrl.body);
  await openssl(['crl', '-inform', 'DER', '-in', 'root.crl', '-out', 'root.crl.pem'], dir);
  const chk = (leaf: string): Promise<{ code: number; out: string }> => openssl(['verify', '-crl_check_all', '-CAfile', 'root.pem',
    '-untrusted', 'int.pem', '-CRLfile', 'int.crl.pem', '-CRLfile', 'root.crl.pem', leaf], dir);
  t.match((await chk('good.pem')).out, /good.pem: OK/);
  t.match((await chk('bad.pem')).out, /certificate revoked/);

  // openssl as an OCSP client of the simulated responder (POST, with a nonce), delegated signer.
  const ask = (leaf: string): Promise<{ code: number; out: string }> => openssl(['ocsp', '-issuer', 'int.pem', '-cert', leaf,
    '-url', responders.urls.ocsp, '-CAfile', 'root.pem', '-verify_other', 'int.pem', '-timeout', '5'], dir);
  const okAnswer = await ask('good.pem');
  t.match(okAnswer.out, /Response verify OK/);
  t.match(okAnswer.out, /good.pem: good/);
  t.notMatch(okAnswer.out, /nonce/i, 'the nonce is echoed (no nonce warning)');
  const revokedAnswer = await ask('bad.pem');
  t.match(revokedAnswer.out, /bad.pem: revoked/);
  t.match(revokedAnswer.out, /Reason: keyCompromise/);

  // -respin on saved answers: issuer-signed verifies, a forged one does not.
  await openssl(['ocsp', '-issuer', 'int.pem', '-cert', 'good.pem', '-reqout', 'req.der', '-no_nonce'], dir);
  const req = readFileSync(join(dir, 'req.der'));
  writeFileSync(join(dir, 'issuer-signed.der'), await pki.ocspRespond(req, { signer: 'issuer' }));
  writeFileSync(join(dir, 'forged.der'), await pki.ocspRespond(req, { badSignature: true }));
  const respin = (file: string): Promise<{ code: number; out: string }> => openssl(['ocsp', '-respin', file, '-issuer', 'int.pem',
    '-cert', 'good.pem', '-CAfile', 'root.pem', '-verify_other', 'int.pem', '-no_nonce'], dir);
  const issuerSigned = await respin('issuer-signed.der');
  t.match(issuerSigned.out, /Response verify OK/);
  t.match(issuerSigned.out, /good.pem: good/);
  t.match((await respin('forged.der')).out, /Response Verify Failure/);
});

/** A port free on every interface (openssl ocsp -port binds the wildcard address). */
async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '0.0.0.0', () => resolve()));
  const address = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Waits for the responder's "waiting for OCSP client connections" line. Probing the port
 * with a bare TCP connect is not an option: openssl 3.0's responder hangs on a connection
 * that closes without a request.
 */
function waitForReady(child: ReturnType<typeof spawn>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(false), ms);
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (/waiting for OCSP client connections/.test(text)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => { clearTimeout(timer); resolve(false); });
  });
}

t.test('miprobe reads a real openssl CA: ocsp -index responder and ca -gencrl CRL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-osslca-'));
  const host = '127.80.2.20';
  const ocspPort = await freePort();
  // A tiny HTTP server for the PEM CRL that openssl ca -gencrl writes.
  const crlServer = createServer((_req, res) => {
    const body = readFileSync(join(dir, 'ca.crl'));
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
  });
  await new Promise<void>((resolve) => crlServer.listen(0, host, () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => crlServer.close(() => resolve())));
  const crlAddress = crlServer.address();
  const crlUrl = `http://${host}:${typeof crlAddress === 'object' && crlAddress ? crlAddress.port : 0}/ca.crl`;
  const ocspUrl = `http://${host}:${ocspPort}`;

  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), `[ca]
default_ca = test_ca
[test_ca]
dir = .
database = ./index.txt
serial = ./serial
crlnumber = ./crlnumber
new_certs_dir = .
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
default_days = 30
default_crl_days = 1
policy = any
unique_subject = no
[any]
commonName = supplied
[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
crlDistributionPoints = URI:${crlUrl}
authorityInfoAccess = OCSP;URI:${ocspUrl}
`);
  const step = async (args: string[]): Promise<void> => {
    const r = await openssl(args, dir);
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.out}`);
  };
  await step(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=OpenSSL Interop CA',
    '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const name of ['good', 'bad']) {
    await step(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.openssl.test`]);
    await step(['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'leaf_ext', '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext']);
  }
  await step(['ca', '-batch', '-config', 'ca.cnf', '-revoke', 'bad.pem', '-crl_reason', 'keyCompromise']);
  await step(['ca', '-batch', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl']);
  t.match(readFileSync(join(dir, 'ca.crl'), 'latin1'), /BEGIN X509 CRL/, 'openssl wrote a PEM CRL');

  const responder = spawn('openssl', ['ocsp', '-index', 'index.txt', '-port', String(ocspPort), '-rsigner', 'ca.pem', '-rkey', 'ca.key',
    '-CA', 'ca.pem', '-nmin', '60', '-ignore_err'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { responder.kill(); });
  t.ok(await waitForReady(responder, 5000), 'the openssl responder listens');

  const ca = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'latin1'));
  const goodCert = new x509.X509Certificate(readFileSync(join(dir, 'good.pem'), 'latin1'));
  const badCert = new x509.X509Certificate(readFileSync(join(dir, 'bad.pem'), 'latin1'));
  const opts = { guard, timeoutMs: 5000 };

  for (const method of ['POST', 'GET'] as const) {
    const g = await checkOcsp(ocspUrl, goodCert, ca, 'ca', { ...opts, method, nonce: method === 'POST' });
    t.equal(g.status, 'good', `${method}: good`);
    t.equal(g.signature, 'valid');
    t.equal(g.signer, 'issuer');
    t.equal(g.ok, true);
    t.equal(g.method, method);
    if (method === 'POST') t.equal(g.nonce, 'match', 'openssl echoes the nonce');
    const b = await checkOcsp(ocspUrl, badCert, ca, 'ca', { ...opts, method, nonce: method === 'POST' });
    t.equal(b.status, 'revoked', `${method}: revoked`);
    t.equal(b.reason, 'keyCompromise');
    t.ok(b.revocationDate && Math.abs(Date.parse(b.revocationDate) - Date.now()) < 600_000, 'revocation time is recent');
  }

  const gc = await checkCrl(crlUrl, goodCert, ca, 'ca', opts);
  t.equal(gc.ok, true, 'PEM CRL from openssl ca -gencrl parses and verifies');
  t.equal(gc.signature, 'valid');
  t.equal(gc.freshness, 'fresh');
  t.equal(gc.status, 'good');
  const bc = await checkCrl(crlUrl, badCert, ca, 'ca', opts);
  t.equal(bc.status, 'revoked');
  t.equal(bc.reason, 'keyCompromise');

  // The whole chain path, URLs read from the certificate openssl issued.
  const chain = await checkChainRevocation([readFileSync(join(dir, 'bad.pem'), 'latin1')], {
    ...opts, extraCertificatesPem: [readFileSync(join(dir, 'ca.pem'), 'latin1')] });
  t.equal(chain.certificates[0]?.status, 'revoked');
  t.equal(chain.certificates[0]?.crl[0]?.status, 'revoked');
  t.equal(chain.certificates[0]?.ocsp[0]?.status, 'revoked');
  t.equal(chain.certificates[1]?.selfSigned, true);
});
