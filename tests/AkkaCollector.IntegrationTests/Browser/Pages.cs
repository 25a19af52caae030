namespace AkkaCollector.IntegrationTests.Browser;

/// <summary>
/// The test pages: each loads one SDK's browser bundle from /sdk/ (as npm installed it) and offers functions the test
/// calls, returning <c>{messageIds, failures, nonce}</c>. The SDKs are configured as their documentation says, pointed
/// at the collector and kept from every outside host.
/// </summary>
internal static class Pages
{
    /// <summary>
    /// @segment/analytics-next's UMD bundle (window.AnalyticsNext). apiHost is "HOST:PORT/v1" with protocol http, as the
    /// README tells; cdnSettings replaces the settings fetch from Segment's CDN and cdnURL makes the page's own origin
    /// the CDN any lazily loaded part would come from.
    /// </summary>
    public static string Segment(string collectorHost, string writeKey) => $$"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Shop</title></head>
        <body><h1>Shop</h1>
        <script src="/sdk/@segment/analytics-next/dist/umd/index.js"></script>
        <script>
          const collector = '{{collectorHost}}';
          const writeKey = '{{writeKey}}';
          const nonce = Math.random().toString(36).slice(2);
          const failures = [];

          function load(deliveryStrategy) {
            const segment = { apiKey: writeKey, apiHost: collector + '/v1', protocol: 'http' };
            if (deliveryStrategy) segment.deliveryStrategy = deliveryStrategy;
            return AnalyticsNext.AnalyticsBrowser.load(
              { writeKey, cdnURL: location.origin, cdnSettings: { integrations: { 'Segment.io': segment } } },
              { integrations: { 'Segment.io': segment } });
          }

          function report(contexts) {
            for (const ctx of contexts) {
              const failed = ctx.failedDelivery();
              if (failed) failures.push(String(failed.reason));
            }
            return { messageIds: contexts.map(ctx => ctx.event.messageId), failures, nonce };
          }

          // One call of each kind; each promise settles once the SDK's delivery attempt has.
          window.sendEachCall = async () => {
            const [analytics] = await load();
            analytics.on('error', e => failures.push(e.code + ': ' + e.reason));
            return report([
              await analytics.identify('user-42', { plan: 'pro', email: 'ada@example.com' }),
              await analytics.track('Order Completed', { revenue: 42.5, currency: 'EUR' }),
              await analytics.page('Shop', 'Checkout', { step: 2 }),
              await analytics.group('org-7', { name: 'Acme' }),
            ]);
          };

          window.trackOnce = async () => {
            const [analytics] = await load();
            analytics.on('error', e => failures.push(e.code + ': ' + e.reason));
            analytics.track('Refused Elsewhere');
            await new Promise(resolve => setTimeout(resolve, 1500));
            return { messageIds: [], failures, nonce };
          };

          // Batching: the SDK holds the events until the page goes away, then sends them with fetch keepalive.
          // On pagehide the page also sends two beacons itself, a text/plain string and a Blob, the write key in the body.
          window.queueUntilUnload = async () => {
            const [analytics] = await load({ strategy: 'batching', config: { size: 100, timeout: 600000 } });
            const contexts = [];
            for (let i = 0; i < 3; i++) contexts.push(await analytics.track('Queued Before Leaving', { i }));
            window.addEventListener('pagehide', () => {
              const now = new Date().toISOString();
              navigator.sendBeacon('http://' + collector + '/v1/t', JSON.stringify({
                writeKey, type: 'track', event: 'Beacon Text', anonymousId: 'beacon-visitor',
                messageId: nonce + '-beacon-text', timestamp: now, sentAt: now }));
              navigator.sendBeacon('http://' + collector + '/v1/b', new Blob([JSON.stringify({
                writeKey, sentAt: now, batch: [{ type: 'track', event: 'Beacon Blob', anonymousId: 'beacon-visitor',
                messageId: nonce + '-beacon-blob', timestamp: now }] })], { type: 'text/plain' }));
            });
            return report(contexts);
          };
        </script>
        </body></html>
        """;

    /// <summary>
    /// @rudderstack/analytics-js's bundled UMD build (window.rudderanalytics.RudderAnalytics: its plugins inside, none
    /// fetched). dataPlaneUrl is the collector's base URL; getSourceConfig replaces the config fetch from RudderStack's
    /// control plane; no polyfill, no error reporting to a remote service.
    /// </summary>
    public static string RudderStack(string collectorBaseUrl, string writeKey) => $$"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Rudder shop</title></head>
        <body><h1>Rudder shop</h1>
        <script src="/sdk/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"></script>
        <script>
          const writeKey = '{{writeKey}}';
          const failures = [];
          const sourceConfig = { source: { id: 'browser-test', name: 'Browser test', writeKey, workspaceId: 'test',
                                           enabled: true, config: {}, destinations: [] } };

          window.sendEachCall = async () => {
            const analytics = new rudderanalytics.RudderAnalytics();
            await new Promise((resolve, reject) => {
              setTimeout(() => reject(new Error('RudderStack did not load within 20 s')), 20000);
              analytics.load(writeKey, '{{collectorBaseUrl}}', {
                getSourceConfig: () => sourceConfig,
                polyfillIfRequired: false,
                pluginsSDKBaseURL: location.origin + '/no-remote-plugins',
                destSDKBaseURL: location.origin + '/no-remote-destinations',
                onLoaded: () => resolve(),
                logLevel: 'WARN',
              });
            });
            const ids = [];
            const call = (method, ...args) => new Promise(resolve => analytics[method](...args, event => { ids.push(event.messageId); resolve(); }));
            await call('identify', 'user-43', { plan: 'team' });
            await call('track', 'Order Completed', { revenue: 12 });
            await call('page', 'Shop', 'Rudder');
            await call('group', 'org-8', { name: 'Initech' });
            return { messageIds: ids, failures, nonce: '' };
          };
        </script>
        </body></html>
        """;
}
