// The shape every error renderer returns: exactly what a surface writes to the HTTP response.

/** An error rendered for the wire: status line, headers (lower-case names) and a JSON body. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  /** Serialized JSON, ready to send as is. */
  body: string;
}

/** Options every dialect accepts. */
export interface RenderContext {
  /**
   * Extra response headers, merged last (names are lower-cased), e.g. the `www-authenticate`
   * challenge that ARM and Key Vault send with a 401. Setting them is the surface's job.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}
