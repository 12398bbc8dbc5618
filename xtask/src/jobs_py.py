"""Export and import jobs with the official Python SDK, written the way its docs show.
Usage: jobs_py.py PORT export|import N"""
import json, sys, time
from alibabacloud_dingtalk.yida_1_0.client import Client
from alibabacloud_dingtalk.yida_1_0 import models as m
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models
port, job, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = Client(open_api_models.Config(protocol='http', region_id='central', endpoint=f'127.0.0.1:{port}'))
rt = util_models.RuntimeOptions()
t = time.perf_counter()
got = 0
if job == 'export':
    h = m.SearchFormDatasHeaders(x_acs_dingtalk_access_token='TOKEN')
    page = 1
    while True:
        req = m.SearchFormDatasRequest(app_type='APP_X', system_token='sys', user_id='u1', form_uuid='FORM-1', current_page=page, page_size=100)
        r = c.search_form_datas_with_options(req, h, rt)
        got += len(r.body.data)
        if len(r.body.data) < 100 or got >= r.body.total_count:
            break
        page += 1
else:
    h = m.BatchSaveFormDataHeaders(x_acs_dingtalk_access_token='TOKEN')
    rows = [json.dumps({"textField_1": f"row {i}", "numberField_2": i}) for i in range(n)]
    for s in range(0, n, 100):
        req = m.BatchSaveFormDataRequest(app_type='APP_X', system_token='sys', user_id='u1', form_uuid='FORM-1', form_data_json_list=rows[s:s + 100])
        r = c.batch_save_form_data_with_options(req, h, rt)
        got += len(r.body.result)
assert got == n, (got, n)
print(f"python-sdk {job} n={got} {time.perf_counter() - t:.3f} s")
