import { AppVersion } from '../../phases/deploy/stages';
import { CustomerStore, Queryable } from '../customer-store';
import { v1Store } from './v1';
import { v2Store } from './v2';
import { v3Store } from './v3';

export { CUSTOMERS_TABLE } from './column-store';

const FACTORIES: Readonly<Record<AppVersion, (db: Queryable) => CustomerStore>> = {
  v1: v1Store,
  v2: v2Store,
  v3: v3Store,
};

export const APP_VERSIONS = Object.keys(FACTORIES) as AppVersion[];

export function isAppVersion(value: unknown): value is AppVersion {
  return typeof value === 'string' && (APP_VERSIONS as string[]).includes(value);
}

/** The data layer of one app version (APP_VERSION selects it in the server). */
export function createStore(version: AppVersion, db: Queryable): CustomerStore {
  return FACTORIES[version](db);
}
