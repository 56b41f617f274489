import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CancellationToken,
  configureRequestOptions,
  configureRequestUrl,
  type DownloadOptions,
  HttpExecutor,
} from 'builder-util-runtime';
import { AppImageUpdater } from 'electron-updater';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';

/**
 * A generic-provider update feed, as electron-builder publishes one: latest-linux.yml naming an
 * AppImage with its sha512. It records every request, to show what the desktop sends.
 */
export interface UpdateFeed {
  url: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  /** `served` in place of `bytes` makes the download fail its sha512 check. */
  publish(version: string, bytes: Buffer, served?: Buffer): void;
  /** Every request fails with this status and body until `publish` is called again. */
  fail(status: number, body: string): void;
  close(): Promise<void>;
}

export async function updateFeed(): Promise<UpdateFeed> {
  let release: { version: string; bytes: Buffer; served: Buffer } | undefined;
  let failure: { status: number; body: string } | undefined;
  const requests: UpdateFeed['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const file = (req.url ?? '').split('?')[0];
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'text/plain' }).end(failure.body);
      return;
    }
    if (release && file === '/latest-linux.yml') {
      const sha512 = createHash('sha512').update(release.bytes).digest('base64');
      const name = `Warren-${release.version}.AppImage`;
      res.end(
        [
          `version: ${release.version}`,
          'files:',
          `  - url: ${name}`,
          `    sha512: ${sha512}`,
          `    size: ${release.bytes.length}`,
          `path: ${name}`,
          `sha512: ${sha512}`,
          "releaseDate: '2026-11-01T00:00:00.000Z'",
          '',
        ].join('\n'),
      );
      return;
    }
    if (release && file === `/Warren-${release.version}.AppImage`) {
      res.writeHead(200, { 'content-length': release.served.length }).end(release.served);
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    publish(version, bytes, served = bytes) {
      failure = undefined;
      release = { version, bytes, served };
    },
    fail(status, body) {
      failure = { status, body };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * electron-updater's real AppImageUpdater (what `autoUpdater` is in a Linux AppImage), run in
 * Node. Only Electron is stood in for: its `app` (an AppAdapter over a temp dir holding the
 * app-update.yml electron-builder writes from `publish`) and its `net` module (this executor over
 * node:http). Reading the feed, comparing versions, downloading, the sha512 check and the events
 * are electron-updater's own code.
 */
export function appImageUpdater(options: { feed: string; dir: string; version: string }): AppImageUpdater {
  const { dir, version } = options;
  fs.mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, 'app-update.yml');
  fs.writeFileSync(
    configPath,
    `provider: generic\nurl: ${options.feed}\nupdaterCacheDirName: warren-updater\n`,
  );
  // AppImageUpdater only runs inside an AppImage, which sets APPIMAGE to its own path.
  const appImage = path.join(dir, `Warren-${version}.AppImage`);
  fs.writeFileSync(appImage, 'the installed version');
  process.env.APPIMAGE = appImage;
  const app: AppAdapter = {
    version,
    name: 'Warren',
    isPackaged: true,
    appUpdateConfigPath: configPath,
    userDataPath: path.join(dir, 'userData'),
    baseCachePath: path.join(dir, 'cache'),
    whenReady: () => Promise.resolve(),
    relaunch: () => {},
    quit: () => {},
    onQuit: () => {},
  };
  const updater = new AppImageUpdater(null, app);
  // With an AppAdapter, electron-updater expects its host to supply the HTTP executor (an
  // internal field, not in its d.ts); Electron's would be net.request.
  Object.assign(updater, { httpExecutor: new NodeNetExecutor() });
  // Differential download reads blocks out of the installed AppImage, which here is a stub.
  updater.disableDifferentialDownload = true;
  return updater;
}

/** Electron's electronHttpExecutor, with node:http in place of Electron's net module. */
class NodeNetExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void) {
    return http.request(options, callback);
  }

  download(url: URL, destination: string, options: DownloadOptions): Promise<string> {
    const token = options.cancellationToken ?? new CancellationToken();
    return token.createPromise((resolve, reject, onCancel) => {
      const requestOptions: http.RequestOptions = { headers: options.headers ?? undefined };
      configureRequestUrl(url, requestOptions);
      configureRequestOptions(requestOptions);
      this.doDownload(
        requestOptions,
        {
          destination,
          options,
          onCancel,
          callback: (error) => (error ? reject(error) : resolve(destination)),
          responseHandler: null,
        },
        0,
      );
    });
  }
}
