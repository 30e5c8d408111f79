import * as dns from 'node:dns';
import { AppConfigClient, ListApplicationsCommand } from '@aws-sdk/client-appconfig';

// test/setup-env.ts keeps unit tests on this machine; these pin that it does.

test('an AWS SDK call nobody mocked is refused on loopback at once, never sent to an AWS host', async () => {
  const started = Date.now();
  const client = new AppConfigClient({ maxAttempts: 1 });
  const error = await client.send(new ListApplicationsCommand({})).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect(String((error as NodeJS.ErrnoException).code ?? error)).toContain('ECONNREFUSED');
  expect(Date.now() - started).toBeLessThan(5000);
});

test('a lookup of a host off this machine is refused', async () => {
  await expect(dns.promises.lookup('appconfig.us-east-1.amazonaws.com')).rejects.toThrow('network attempt to appconfig.us-east-1.amazonaws.com refused');
});
