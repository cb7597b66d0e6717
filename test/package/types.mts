// Type-checked by scripts/pack-test.sh against the installed package's .d.mts/.d.ts.
import skiptrail, { ActivityIndex, MissingDependencyError, type PageView, type IngestReport } from 'skiptrail';

const index: ActivityIndex = new skiptrail.ActivityIndex({ usersPerPage: 5 });
const same: typeof ActivityIndex = skiptrail.ActivityIndex;
const rows: PageView[] = new same().userPages('ann');
const report: IngestReport = index.ingest('x\n');
const missing: string = new MissingDependencyError('nats', 'subscribeNats()', { cause: null }).dependency;
export { rows, report, missing };
