// Export and import jobs with the official Node SDK, written the way its docs show.
// Usage: node jobs_node.js PORT export|import N   (NODE_PATH at its node_modules)
const Yida = require('@alicloud/dingtalk/dist/yida_1_0/client');
const $OpenApi = require('@alicloud/openapi-client');
const $Util = require('@alicloud/tea-util');
const [port, job, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const client = new Yida.default(new $OpenApi.Config({ protocol: 'http', regionId: 'central', endpoint: `127.0.0.1:${port}` }));
const rt = new $Util.RuntimeOptions({});
(async () => {
  const t = process.hrtime.bigint();
  let got = 0;
  if (job === 'export') {
    const h = new Yida.SearchFormDatasHeaders({ xAcsDingtalkAccessToken: 'TOKEN' });
    for (let page = 1; ; page++) {
      const req = new Yida.SearchFormDatasRequest({ appType: 'APP_X', systemToken: 'sys', userId: 'u1', formUuid: 'FORM-1', currentPage: page, pageSize: 100 });
      const r = await client.searchFormDatasWithOptions(req, h, rt);
      got += r.body.data.length;
      if (r.body.data.length < 100 || got >= r.body.totalCount) break;
    }
  } else {
    const h = new Yida.BatchSaveFormDataHeaders({ xAcsDingtalkAccessToken: 'TOKEN' });
    const rows = Array.from({ length: n }, (_, i) => JSON.stringify({ textField_1: `row ${i}`, numberField_2: i }));
    for (let s = 0; s < n; s += 100) {
      const req = new Yida.BatchSaveFormDataRequest({ appType: 'APP_X', systemToken: 'sys', userId: 'u1', formUuid: 'FORM-1', formDataJsonList: rows.slice(s, s + 100) });
      const r = await client.batchSaveFormDataWithOptions(req, h, rt);
      got += r.body.result.length;
    }
  }
  if (got !== n) throw new Error(`got ${got} of ${n}`);
  const dt = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`node-sdk ${job} n=${got} ${dt.toFixed(3)} s`);
})();
