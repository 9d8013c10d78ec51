// The portal's shell: sign-in, the session and its expiry, the subscription, the page router.
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import {
  clearSession,
  loadConfig,
  type PortalConfig,
  type Session,
  storedSession,
} from './api/auth.js';
import { subscriptions } from './api/arm.js';
import { createHttp, describeError } from './api/http.js';
import { Layout } from './components/layout.js';
import { type Portal, PortalContext } from './lib/context.js';
import { useLoad, useRoute } from './lib/hooks.js';
import { Activity } from './pages/activity.js';
import { Deployments } from './pages/deployments.js';
import { Graph } from './pages/graph.js';
import { Hosts } from './pages/hosts.js';
import { Identities } from './pages/identities.js';
import { Machines } from './pages/machines.js';
import { Roles } from './pages/roles.js';
import { SignIn } from './pages/sign-in.js';

export const PAGES = [
  { route: 'identities', title: 'Identities' },
  { route: 'machines', title: 'VMs and scale sets' },
  { route: 'roles', title: 'Role assignments' },
  { route: 'deployments', title: 'Deployments' },
  { route: 'hosts', title: 'Hosts' },
  { route: 'activity', title: 'Activity' },
  { route: 'graph', title: 'Graph' },
] as const;

function Page(props: { readonly route: string }): ReactNode {
  switch (props.route) {
    case 'machines':
      return <Machines />;
    case 'roles':
      return <Roles />;
    case 'deployments':
      return <Deployments />;
    case 'hosts':
      return <Hosts />;
    case 'activity':
      return <Activity />;
    case 'graph':
      return <Graph />;
    default:
      return <Identities />;
  }
}

export function App(): ReactNode {
  const config = useLoad(loadConfig);
  const [session, setSession] = useState<Session | undefined>(storedSession);
  const [notice, setNotice] = useState<string>();
  const signOut = useCallback((why?: string) => {
    clearSession();
    setSession(undefined);
    setNotice(why);
  }, []);
  useEffect(() => {
    if (session === undefined) return;
    const end = (): void => {
      signOut(
        'Your session ended (an hour after sign-in, or when its token expired). Sign in again.',
      );
    };
    const timer = setTimeout(end, Math.max(0, session.expiresAt - Date.now()));
    // A laptop that slept past the end may run the timer late: check again when the tab shows.
    const check = (): void => {
      if (document.visibilityState === 'visible' && Date.now() >= session.expiresAt) end();
    };
    document.addEventListener('visibilitychange', check);
    return () => {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', check);
    };
  }, [session, signOut]);
  if (config.data === undefined) {
    return (
      <main>
        <h1>Tessera portal</h1>
        <p role={config.error === undefined ? 'status' : 'alert'}>
          {config.error === undefined ? 'Loading…' : describeError(config.error)}
        </p>
      </main>
    );
  }
  if (session === undefined) {
    return (
      <SignIn
        config={config.data}
        notice={notice}
        onSignedIn={(s) => {
          setNotice(undefined);
          setSession(s);
        }}
      />
    );
  }
  return <SignedIn config={config.data} session={session} signOut={signOut} />;
}

function SignedIn(props: {
  readonly config: PortalConfig;
  readonly session: Session;
  readonly signOut: (why?: string) => void;
}): ReactNode {
  const { session, signOut } = props;
  const http = useMemo(
    () =>
      createHttp(session.token, () => {
        signOut('The server no longer accepts your token (401). Sign in again.');
      }),
    [session.token, signOut],
  );
  const loadSubs = useCallback(() => subscriptions(http), [http]);
  const subs = useLoad(loadSubs);
  const [chosen, setChosen] = useState<string>();
  const route = useRoute();
  const subscriptionId = chosen ?? subs.data?.[0]?.subscriptionId;
  const portal: Portal | undefined = useMemo(
    () => (subscriptionId === undefined ? undefined : { session, http, subscriptionId }),
    [session, http, subscriptionId],
  );
  return (
    <Layout
      route={route}
      pages={PAGES}
      session={session}
      subscriptions={subs.data ?? []}
      subscriptionId={subscriptionId}
      onSubscription={setChosen}
      onSignOut={() => {
        signOut('You signed out.');
      }}
    >
      {portal === undefined ? (
        <p role={subs.error === undefined ? 'status' : 'alert'}>
          {subs.error !== undefined
            ? describeError(subs.error)
            : subs.loading
              ? 'Loading subscriptions…'
              : 'You can see no subscription.'}
        </p>
      ) : (
        <PortalContext.Provider value={portal}>
          <Page key={`${route}:${portal.subscriptionId}`} route={route} />
        </PortalContext.Provider>
      )}
    </Layout>
  );
}
