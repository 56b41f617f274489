/**
 * The few Electron APIs the desktop uses, typed here so the repository does not install the
 * `electron` package (its postinstall downloads a ~100 MB binary, and its current releases need a
 * newer Node than the repo's 20). Signatures follow Electron's own d.ts for these members; the
 * runtime provides the module when the app runs under Electron.
 */
declare module 'electron' {
  interface NativeImage {
    isEmpty(): boolean;
    setTemplateImage(option: boolean): void;
  }
  export const nativeImage: { createFromPath(path: string): NativeImage };

  interface LoginItemSettings {
    openAtLogin: boolean;
  }
  export const app: {
    whenReady(): Promise<void>;
    quit(): void;
    requestSingleInstanceLock(): boolean;
    setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean;
    getPath(name: 'userData' | 'logs' | 'home'): string;
    getAppPath(): string;
    getLoginItemSettings(): LoginItemSettings;
    setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean }): void;
    isPackaged: boolean;
    dock?: { hide(): void; show(): Promise<void> };
    on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): void;
    on(event: 'open-url', listener: (event: { preventDefault(): void }, url: string) => void): void;
    on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): void;
    on(event: 'window-all-closed' | 'activate', listener: () => void): void;
  };

  export const safeStorage: {
    isEncryptionAvailable(): boolean;
    encryptString(plainText: string): Buffer;
    decryptString(encrypted: Buffer): string;
  };

  export const shell: { openExternal(url: string): Promise<void> };
  export const clipboard: { writeText(text: string): void };

  export class Notification {
    static isSupported(): boolean;
    constructor(options: { title: string; body: string; silent?: boolean });
    show(): void;
    on(event: 'click', listener: () => void): void;
  }

  export interface MenuItemConstructorOptions {
    label?: string;
    type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
    enabled?: boolean;
    checked?: boolean;
    click?: () => void;
    submenu?: MenuItemConstructorOptions[];
  }
  export interface Menu {
    readonly items: unknown[];
  }
  export const Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): Menu };
  export class Tray {
    constructor(image: NativeImage);
    setImage(image: NativeImage): void;
    setToolTip(text: string): void;
    setContextMenu(menu: Menu): void;
    destroy(): void;
  }

  export interface MessagePortMain {
    postMessage(message: unknown): void;
    on(event: 'message', listener: (event: { data: unknown }) => void): this;
    on(event: 'close', listener: () => void): this;
    start(): void;
    close(): void;
  }
  export const ipcMain: {
    on(
      channel: string,
      listener: (event: { ports: MessagePortMain[]; sender: { id: number } }) => void,
    ): void;
  };

  export class BrowserWindow {
    constructor(options: {
      width?: number;
      height?: number;
      show?: boolean;
      title?: string;
      webPreferences?: {
        preload?: string;
        contextIsolation?: boolean;
        sandbox?: boolean;
        nodeIntegration?: boolean;
      };
    });
    loadFile(path: string, options?: { hash?: string }): Promise<void>;
    show(): void;
    focus(): void;
    isDestroyed(): boolean;
    isMinimized(): boolean;
    restore(): void;
    on(event: 'closed' | 'ready-to-show', listener: () => void): void;
    webContents: {
      id: number;
      setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
    };
  }

  export const ipcRenderer: {
    postMessage(channel: string, message: unknown, transfer?: MessagePort[]): void;
  };
  export const contextBridge: { exposeInMainWorld(key: string, api: Record<string, unknown>): void };
}

declare namespace NodeJS {
  interface Process {
    /** Electron: the packaged app's resources folder (electron-builder `extraResources` land here). */
    resourcesPath: string;
  }
}
