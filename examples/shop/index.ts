/**
 * The shop team's own Pulumi program. Its app already lives here; Tandem comes in as a package:
 * one TandemMigration declares the stack state of the current migration's stage, from the
 * history of migrations and the team's release images in the stack config. `tandem walk` (or
 * `pulumi up` one stage at a time) moves it: each step changes the schema or the app, never both.
 *
 *   npm pack                       # in the Tandem checkout: tandem-0.1.0.tgz
 *   npm install                    # here: installs it from ../../tandem-0.1.0.tgz
 *   pulumi config set tandem:stage expand && pulumi up
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { MigrationInput, Stage, TandemMigration } from 'tandem';

const config = new pulumi.Config('tandem');

// tandem:* keys, so `tandem walk` can read and set the stage of this project too.
// The team's own namespace, next to the app's other resources (a Kubernetes resource: app side).
const namespace = new k8s.core.v1.Namespace('shop', { metadata: { name: 'shop' } });

const shop = new TandemMigration(
  'shop',
  {
    migrations: config.requireObject<MigrationInput[]>('migrations'),
    migration: config.get('migration'),
    stage: config.require('stage') as Stage,
    databaseUrl: config.requireSecret('databaseUrl'),
    appDatabaseUrl: config.requireSecret('appDatabaseUrl'),
    verifyDatabaseUrl: config.requireSecret('verifyDatabaseUrl'),
    appName: 'shop',
    namespace: 'shop',
    verifyImage: 'ghcr.io/acme/tandem:0.1.0',
    replicas: 3,
  },
  { dependsOn: [namespace] },
);

export const stage = shop.stage;
export const migration = shop.migration;
export const image = shop.image;
export const migrations = shop.migrations;
export const rollout = shop.rollout.rolloutName;
