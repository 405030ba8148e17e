import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The console's pages, from the path under /console (the API serves the same page for every such path). */
export type Route =
  | { page: 'list' }
  | { page: 'new' }
  | { page: 'setup'; id: string }
  | { page: 'export-setup'; id: string }
  | { page: 'destination'; id: string };

const BASE = '/console';

export function parseRoute(pathname: string): Route {
  const parts = pathname
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean);
  if (parts[0] === 'destinations' && parts[1] === 'new') return { page: 'new' };
  if (parts[0] === 'destinations' && parts[1]) {
    const id = parts[1];
    if (parts[2] === 'setup') return { page: 'setup', id };
    if (parts[2] === 'export') return { page: 'export-setup', id };
    return { page: 'destination', id };
  }
  return { page: 'list' };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case 'list':
      return `${BASE}/`;
    case 'new':
      return `${BASE}/destinations/new`;
    case 'setup':
      return `${BASE}/destinations/${route.id}/setup`;
    case 'export-setup':
      return `${BASE}/destinations/${route.id}/export`;
    case 'destination':
      return `${BASE}/destinations/${route.id}`;
  }
}

const listeners = new Set<() => void>();
export function navigate(route: Route): void {
  history.pushState(null, '', pathOf(route));
  for (const fn of listeners) fn();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** A real link (opens in a new tab, keyboard, screen readers) that navigates in place on a plain click. */
export function Link({ to, ...rest }: { to: Route } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={pathOf(to)} onClick={onClick} {...rest} />;
}
