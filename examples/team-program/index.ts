/**
 * The checkout team's own Pulumi program: two apps (customers and orders), each with its own
 * table, service account and pod template (the app container plus an Envoy sidecar, with their
 * resources and probes). Tandem comes in as a package, one TandemMigration per app. The roles are
 * the DBA's (manageRoles: false): each TandemMigration checks them before it declares anything.
 * The credentials and the executor's options are under the team's own config keys.
 *
 *   npm pack                       # in the Tandem checkout: tandem-0.1.0.tgz
 *   npm install                    # here: installs it from ../../tandem-0.1.0.tgz
 *   tandem walk --project . --stack dev --to expand --database-url "$MIGRATOR_URL"
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ExecutorOptionsInput, MigrationInput, parseCanarySteps, Stage, TandemMigration } from 'tandem';

const checkout = new pulumi.Config('checkout');
const tandem = new pulumi.Config('tandem');
const namespaceName = 'checkout';

const namespace = new k8s.core.v1.Namespace('checkout', { metadata: { name: namespaceName } });

/** The team's pod template for one app: its container and an Envoy sidecar, under its own service account. */
function podTemplate(app: string, port: number) {
  return {
    metadata: { labels: { team: 'checkout' }, annotations: { 'prometheus.io/scrape': 'true' } },
    spec: {
      serviceAccountName: app,
      containers: [
        {
          name: 'web',
          image: 'set-by-tandem',
          ports: [{ name: 'http', containerPort: port }],
          env: [{ name: 'LOG_LEVEL', value: 'info' }],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
        },
        {
          name: 'envoy',
          image: 'envoyproxy/envoy:v1.31.0',
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        },
      ],
    },
  };
}

/** The app's own service account (the pod template names it). */
function serviceAccount(app: string) {
  return new k8s.core.v1.ServiceAccount(
    app,
    { metadata: { name: app, namespace: namespaceName } },
    { dependsOn: [namespace] },
  );
}

// What both migrations share: the migrator, the DBA's roles, the executor's options, the canary steps.
const executor: ExecutorOptionsInput = {
  lockTimeoutMs: checkout.requireNumber('lockTimeoutMs'),
  holdTimeoutMs: checkout.requireNumber('holdTimeoutMs'),
  maxLoad: checkout.requireNumber('maxLoad'),
  maxLag: checkout.require('maxLag'),
  pauseFile: checkout.require('pauseFile'),
};
const shared = {
  databaseUrl: checkout.requireSecret('migratorUrl'),
  manageRoles: false,
  migratorRole: 'checkout_migrator',
  namespace: namespaceName,
  verifyImage: 'ghcr.io/acme/tandem:0.1.0',
  replicas: 4,
  executor,
  steps: parseCanarySteps('checkout:canarySteps', checkout.requireObject('canarySteps')),
};

const customersAccount = serviceAccount('customers');
const customers = new TandemMigration(
  'customers',
  {
    ...shared,
    migrations: tandem.requireObject<MigrationInput[]>('migrations'),
    migration: tandem.get('migration'),
    stage: tandem.require('stage') as Stage,
    appName: 'customers',
    appRole: 'customers_app',
    verifyRole: 'customers_verify',
    appDatabaseUrl: checkout.requireSecret('customersDbUrl'),
    verifyDatabaseUrl: checkout.requireSecret('customersVerifyUrl'),
    podTemplate: podTemplate('customers', 8080),
    container: 'web',
    databaseUrlEnv: 'CUSTOMERS_PG_URL',
  },
  { dependsOn: [customersAccount] },
);

const ordersAccount = serviceAccount('orders');
const orders = new TandemMigration(
  'orders',
  {
    ...shared,
    migrations: checkout.requireObject<MigrationInput[]>('ordersMigrations'),
    stage: checkout.require('ordersStage') as Stage,
    appName: 'orders',
    appRole: 'orders_app',
    verifyRole: 'orders_verify',
    appDatabaseUrl: checkout.requireSecret('ordersDbUrl'),
    verifyDatabaseUrl: checkout.requireSecret('ordersVerifyUrl'),
    podTemplate: podTemplate('orders', 9090),
    container: 'web',
    databaseUrlEnv: 'ORDERS_DATABASE_URL',
  },
  { dependsOn: [ordersAccount] },
);

// The Rollout of the migration `tandem walk` walks (the one on tandem:* keys): its rollout gate reads this output.
export const rollout = { name: customers.rollout.rolloutName, namespace: namespaceName };
export const customersStage = customers.stage;
export const customersImage = customers.image;
export const customersMigrations = customers.migrations;
export const ordersStage = orders.stage;
export const ordersImage = orders.image;
export const ordersMigrations = orders.migrations;
