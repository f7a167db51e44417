// idp.mjs — a real SAML 2.0 identity provider for the end-to-end test: Debian's SimpleSAMLphp
// (tests/saml/install.sh) configured in a temporary directory and served by `php -S` on
// 127.0.0.1. It knows one service provider (apikeyd: entity id, ACS URL, the certificate its
// AuthnRequests must be signed with) and the given users (exampleauth:UserPass, with uid,
// displayName, mail and groups attributes), signs its assertions with a fresh key, and
// publishes its metadata, which is written to a file for saml_idp_metadata_file.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SSP = '/usr/share/simplesamlphp';
const php = (v) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const phpList = (a) => `[${a.map(php).join(', ')}]`;

function certBody(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
}

// Writes the configuration under dir for an IdP at base serving sp to users
// ({login: {password, name, mail, groups}}).
function configure(dir, base, sp, users) {
  for (const d of ['config', 'metadata', 'cert', 'tmp', 'log', 'data']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=simplesamlphp-test-idp', '-keyout', path.join(dir, 'cert', 'idp.key'),
    '-out', path.join(dir, 'cert', 'idp.crt')], { stdio: 'ignore' });
  const secret = Math.random().toString(36).slice(2) + Date.now();
  fs.writeFileSync(path.join(dir, 'config', 'config.php'), `<?php
$config = [
  'baseurlpath' => ${php(`${base}/`)},
  'certdir' => ${php(path.join(dir, 'cert') + '/')},
  'loggingdir' => ${php(path.join(dir, 'log') + '/')},
  'datadir' => ${php(path.join(dir, 'data') + '/')},
  'tempdir' => ${php(path.join(dir, 'tmp'))},
  'metadatadir' => ${php(path.join(dir, 'metadata') + '/')},
  'metadata.sources' => [['type' => 'flatfile', 'directory' => ${php(path.join(dir, 'metadata'))}]],
  'secretsalt' => ${php(secret)},
  'auth.adminpassword' => ${php(secret)},
  'admin.protectindexpage' => true,
  'technicalcontact_name' => 'Test',
  'technicalcontact_email' => 'test@example.org',
  'timezone' => 'UTC',
  'logging.level' => SimpleSAML\\Logger::WARNING,
  'logging.handler' => 'file',
  'logging.logfile' => 'simplesamlphp.log',
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.cookie.secure' => false,
  'session.phpsession.savepath' => ${php(path.join(dir, 'tmp'))},
  'language.default' => 'en',
];
`);
  const entries = Object.entries(users).map(([login, u]) => `    ${php(`${login}:${u.password}`)} => [
      'uid' => [${php(login)}], 'displayName' => [${php(u.name)}], 'mail' => [${php(u.mail)}],
      'groups' => ${phpList(u.groups)},
    ],`).join('\n');
  fs.writeFileSync(path.join(dir, 'config', 'authsources.php'), `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => ['exampleauth:UserPass',
${entries}
  ],
];
`);
  fs.writeFileSync(path.join(dir, 'metadata', 'saml20-idp-hosted.php'), `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
];
`);
  fs.writeFileSync(path.join(dir, 'metadata', 'saml20-sp-remote.php'), `<?php
$metadata[${php(sp.entityId)}] = [
  'AssertionConsumerService' => ${php(sp.acs)},
  'certData' => ${php(certBody(sp.certFile))},
  'validate.authnrequest' => true,
  'saml20.sign.assertion' => true,
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  'simplesaml.nameidattribute' => 'uid',
];
`);
}

// Starts the IdP on port: {proc, base, metadataFile, stop()}. Bounded waits; throws with
// php's output when it does not come up.
export async function startIdp({ dir, port, sp, users }) {
  const base = `http://127.0.0.1:${port}`;
  configure(dir, base, sp, users);
  const proc = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', path.join(SSP, 'www')], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: path.join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (b) => { out += b; });
  proc.stderr.on('data', (b) => { out += b; });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode) { resolve(); return; }
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
  const metadataUrl = `${base}/saml2/idp/metadata.php`;
  const deadline = Date.now() + 15_000;
  let metadata = '';
  while (Date.now() < deadline && !metadata) {
    try {
      const r = await fetch(metadataUrl);
      const text = await r.text();
      if (r.ok && text.includes('IDPSSODescriptor')) metadata = text;
    } catch { /* not listening yet */ }
    if (!metadata) await new Promise((r) => setTimeout(r, 100));
  }
  if (!metadata) {
    await stop();
    throw new Error(`SimpleSAMLphp did not serve its metadata at ${metadataUrl}: ${out.slice(-2000)}`);
  }
  const metadataFile = path.join(dir, 'idp-metadata.xml');
  fs.writeFileSync(metadataFile, metadata);
  return { proc, base, metadataFile, stop, output: () => out };
}
