// The frame around every page: skip link, navigation, who is signed in, the subscription picker.
import { type ReactNode, useEffect, useRef } from 'react';
import type { Subscription } from '../api/arm.js';
import type { Session } from '../api/auth.js';
import { clock } from '../lib/format.js';
import { Guid } from './guid.js';

interface LayoutProps {
  readonly route: string;
  readonly pages: readonly { readonly route: string; readonly title: string }[];
  readonly session: Session;
  readonly subscriptions: readonly Subscription[];
  readonly subscriptionId: string | undefined;
  readonly onSubscription: (id: string) => void;
  readonly onSignOut: () => void;
  readonly children: ReactNode;
}

export function Layout(props: LayoutProps): ReactNode {
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const current = props.pages.find((p) => p.route === props.route) ?? props.pages[0];
  useEffect(() => {
    document.title = `${current?.title ?? 'Tessera'} · Tessera portal`;
    // After navigating, start reading at the new page, not at the link that led there.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [current]);
  return (
    <>
      <a
        className="skip"
        href="#content"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="top">
        <div className="brand">Tessera</div>
        <nav aria-label="Pages">
          <ul>
            {props.pages.map((page) => (
              <li key={page.route}>
                <a
                  href={`#/${page.route}`}
                  aria-current={page.route === current?.route ? 'page' : undefined}
                >
                  {page.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {props.subscriptions.length > 1 ? (
            <label>
              Subscription{' '}
              <select
                value={props.subscriptionId}
                onChange={(e) => {
                  props.onSubscription(e.target.value);
                }}
              >
                {props.subscriptions.map((s) => (
                  <option key={s.subscriptionId} value={s.subscriptionId}>
                    {s.displayName}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <span className="signed-in">
            Signed in: app <Guid value={props.session.appId} />, object{' '}
            <Guid value={props.session.objectId} />; session ends{' '}
            {clock(new Date(props.session.expiresAt).toISOString()).slice(0, 5)} UTC
          </span>
          <button type="button" className="plain" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content" ref={main} tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
