package intlpartnersmgt

import (
	"context"

	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// tradeOneNode and tradeTwoNode are the SDK's TradeOneNode {Id, Name,
// Children} and TradeTwoNode {Id, Name, TradeInfo} (tencentcloud-sdk-go-intl-en
// intlpartnersmgt/v20220928/models.go). TradeInfo holds the parent's id, as
// in the documented example.
type tradeOneNode struct {
	ID       string         `json:"Id"`
	Name     string         `json:"Name"`
	Children []tradeTwoNode `json:"Children"`
}

type tradeTwoNode struct {
	ID        string `json:"Id"`
	Name      string `json:"Name"`
	TradeInfo string `json:"TradeInfo"`
}

// trade is one industry of the tree, named in English and Chinese.
type trade struct {
	id, en, zh string
	children   []trade
}

// trades is the industry tree GetTradeConfigList answers and CreateAccount's
// TradeOne/TradeTwo are checked against.
//
// Source. Tencent publishes one part of it: the GetTradeConfigList example
// (tencentcloud-cli tccli/examples/intlpartnersmgt/v20220928/GetTradeConfigList.md,
// the example of https://www.tencentcloud.com/document/api/1085/68181) lists
// kghy_01 "农林牧渔业" with kghy_0101 农业, kghy_0102 林业, kghy_0103 畜牧业 and
// kghy_0104 渔业, and the account API examples register with kghy_16 /
// kghy_1601. That part is exactly section A of China's national standard
// GB/T 4754-2017 "Industrial classification for national economic
// activities" (国民经济行业分类, maintained by the National Bureau of
// Statistics) with its divisions 01-04, so the rest of the tree is that
// standard: the 20 sections A-T are kghy_01..kghy_20 in order, and the
// divisions of each section kghy_NN01, kghy_NN02... in the standard's order
// (P 教育 is kghy_16, its one division 83 教育 kghy_1601, matching the
// examples). kghy_01 and its children are as Tencent publishes them (the
// standard also has division 05, 农、林、牧、渔专业及辅助性活动, which the
// example does not list, so it is left out); every other Chinese name is the
// standard's. The English names are translations in the style of the
// Bureau's English titles (China Statistical Yearbook).
var trades = []trade{
	{"kghy_01", "Agriculture, Forestry, Animal Husbandry and Fishery", "农林牧渔业", []trade{
		{"kghy_0101", "Agriculture", "农业", nil},
		{"kghy_0102", "Forestry", "林业", nil},
		{"kghy_0103", "Animal Husbandry", "畜牧业", nil},
		{"kghy_0104", "Fishery", "渔业", nil},
	}},
	{"kghy_02", "Mining", "采矿业", []trade{
		{"kghy_0201", "Mining and Washing of Coal", "煤炭开采和洗选业", nil},
		{"kghy_0202", "Extraction of Petroleum and Natural Gas", "石油和天然气开采业", nil},
		{"kghy_0203", "Mining and Processing of Ferrous Metal Ores", "黑色金属矿采选业", nil},
		{"kghy_0204", "Mining and Processing of Non-ferrous Metal Ores", "有色金属矿采选业", nil},
		{"kghy_0205", "Mining and Processing of Non-metallic Mineral Ores", "非金属矿采选业", nil},
		{"kghy_0206", "Professional and Support Activities for Mining", "开采专业及辅助性活动", nil},
		{"kghy_0207", "Other Mining", "其他采矿业", nil},
	}},
	{"kghy_03", "Manufacturing", "制造业", []trade{
		{"kghy_0301", "Processing of Food from Agricultural Products", "农副食品加工业", nil},
		{"kghy_0302", "Manufacture of Foods", "食品制造业", nil},
		{"kghy_0303", "Manufacture of Liquor, Beverages and Refined Tea", "酒、饮料和精制茶制造业", nil},
		{"kghy_0304", "Manufacture of Tobacco Products", "烟草制品业", nil},
		{"kghy_0305", "Manufacture of Textiles", "纺织业", nil},
		{"kghy_0306", "Manufacture of Textile Wearing Apparel and Accessories", "纺织服装、服饰业", nil},
		{"kghy_0307", "Manufacture of Leather, Fur, Feather and Related Products and Footwear", "皮革、毛皮、羽毛及其制品和制鞋业", nil},
		{"kghy_0308", "Processing of Timber and Manufacture of Wood, Bamboo, Rattan, Palm and Straw Products", "木材加工和木、竹、藤、棕、草制品业", nil},
		{"kghy_0309", "Manufacture of Furniture", "家具制造业", nil},
		{"kghy_0310", "Manufacture of Paper and Paper Products", "造纸和纸制品业", nil},
		{"kghy_0311", "Printing and Reproduction of Recording Media", "印刷和记录媒介复制业", nil},
		{"kghy_0312", "Manufacture of Articles for Culture, Education, Arts and Crafts, Sports and Entertainment", "文教、工美、体育和娱乐用品制造业", nil},
		{"kghy_0313", "Processing of Petroleum, Coal and Other Fuels", "石油、煤炭及其他燃料加工业", nil},
		{"kghy_0314", "Manufacture of Raw Chemical Materials and Chemical Products", "化学原料和化学制品制造业", nil},
		{"kghy_0315", "Manufacture of Medicines", "医药制造业", nil},
		{"kghy_0316", "Manufacture of Chemical Fibers", "化学纤维制造业", nil},
		{"kghy_0317", "Manufacture of Rubber and Plastic Products", "橡胶和塑料制品业", nil},
		{"kghy_0318", "Manufacture of Non-metallic Mineral Products", "非金属矿物制品业", nil},
		{"kghy_0319", "Smelting and Pressing of Ferrous Metals", "黑色金属冶炼和压延加工业", nil},
		{"kghy_0320", "Smelting and Pressing of Non-ferrous Metals", "有色金属冶炼和压延加工业", nil},
		{"kghy_0321", "Manufacture of Metal Products", "金属制品业", nil},
		{"kghy_0322", "Manufacture of General-purpose Machinery", "通用设备制造业", nil},
		{"kghy_0323", "Manufacture of Special-purpose Machinery", "专用设备制造业", nil},
		{"kghy_0324", "Manufacture of Automobiles", "汽车制造业", nil},
		{"kghy_0325", "Manufacture of Railway, Ship, Aerospace and Other Transport Equipment", "铁路、船舶、航空航天和其他运输设备制造业", nil},
		{"kghy_0326", "Manufacture of Electrical Machinery and Equipment", "电气机械和器材制造业", nil},
		{"kghy_0327", "Manufacture of Computers, Communication and Other Electronic Equipment", "计算机、通信和其他电子设备制造业", nil},
		{"kghy_0328", "Manufacture of Measuring Instruments and Meters", "仪器仪表制造业", nil},
		{"kghy_0329", "Other Manufacturing", "其他制造业", nil},
		{"kghy_0330", "Comprehensive Utilization of Waste Resources", "废弃资源综合利用业", nil},
		{"kghy_0331", "Repair of Metal Products, Machinery and Equipment", "金属制品、机械和设备修理业", nil},
	}},
	{"kghy_04", "Production and Supply of Electricity, Heat, Gas and Water", "电力、热力、燃气及水生产和供应业", []trade{
		{"kghy_0401", "Production and Supply of Electricity and Heat", "电力、热力生产和供应业", nil},
		{"kghy_0402", "Production and Supply of Gas", "燃气生产和供应业", nil},
		{"kghy_0403", "Production and Supply of Water", "水的生产和供应业", nil},
	}},
	{"kghy_05", "Construction", "建筑业", []trade{
		{"kghy_0501", "Construction of Buildings", "房屋建筑业", nil},
		{"kghy_0502", "Civil Engineering", "土木工程建筑业", nil},
		{"kghy_0503", "Construction Installation", "建筑安装业", nil},
		{"kghy_0504", "Building Decoration, Renovation and Other Construction", "建筑装饰、装修和其他建筑业", nil},
	}},
	{"kghy_06", "Wholesale and Retail Trade", "批发和零售业", []trade{
		{"kghy_0601", "Wholesale Trade", "批发业", nil},
		{"kghy_0602", "Retail Trade", "零售业", nil},
	}},
	{"kghy_07", "Transport, Storage and Postal Services", "交通运输、仓储和邮政业", []trade{
		{"kghy_0701", "Rail Transport", "铁路运输业", nil},
		{"kghy_0702", "Road Transport", "道路运输业", nil},
		{"kghy_0703", "Water Transport", "水上运输业", nil},
		{"kghy_0704", "Air Transport", "航空运输业", nil},
		{"kghy_0705", "Pipeline Transport", "管道运输业", nil},
		{"kghy_0706", "Multimodal Transport and Transport Agency", "多式联运和运输代理业", nil},
		{"kghy_0707", "Loading, Unloading and Storage", "装卸搬运和仓储业", nil},
		{"kghy_0708", "Postal Services", "邮政业", nil},
	}},
	{"kghy_08", "Accommodation and Catering", "住宿和餐饮业", []trade{
		{"kghy_0801", "Accommodation", "住宿业", nil},
		{"kghy_0802", "Catering", "餐饮业", nil},
	}},
	{"kghy_09", "Information Transmission, Software and Information Technology Services", "信息传输、软件和信息技术服务业", []trade{
		{"kghy_0901", "Telecommunications, Radio and Television, and Satellite Transmission Services", "电信、广播电视和卫星传输服务", nil},
		{"kghy_0902", "Internet and Related Services", "互联网和相关服务", nil},
		{"kghy_0903", "Software and Information Technology Services", "软件和信息技术服务业", nil},
	}},
	{"kghy_10", "Finance", "金融业", []trade{
		{"kghy_1001", "Monetary and Financial Services", "货币金融服务", nil},
		{"kghy_1002", "Capital Market Services", "资本市场服务", nil},
		{"kghy_1003", "Insurance", "保险业", nil},
		{"kghy_1004", "Other Financial Services", "其他金融业", nil},
	}},
	{"kghy_11", "Real Estate", "房地产业", []trade{
		{"kghy_1101", "Real Estate", "房地产业", nil},
	}},
	{"kghy_12", "Leasing and Business Services", "租赁和商务服务业", []trade{
		{"kghy_1201", "Leasing", "租赁业", nil},
		{"kghy_1202", "Business Services", "商务服务业", nil},
	}},
	{"kghy_13", "Scientific Research and Technical Services", "科学研究和技术服务业", []trade{
		{"kghy_1301", "Research and Experimental Development", "研究和试验发展", nil},
		{"kghy_1302", "Professional Technical Services", "专业技术服务业", nil},
		{"kghy_1303", "Technology Promotion and Application Services", "科技推广和应用服务业", nil},
	}},
	{"kghy_14", "Management of Water Conservancy, Environment and Public Facilities", "水利、环境和公共设施管理业", []trade{
		{"kghy_1401", "Water Conservancy Management", "水利管理业", nil},
		{"kghy_1402", "Ecological Protection and Environmental Management", "生态保护和环境治理业", nil},
		{"kghy_1403", "Public Facilities Management", "公共设施管理业", nil},
		{"kghy_1404", "Land Management", "土地管理业", nil},
	}},
	{"kghy_15", "Resident Services, Repair and Other Services", "居民服务、修理和其他服务业", []trade{
		{"kghy_1501", "Resident Services", "居民服务业", nil},
		{"kghy_1502", "Repair of Motor Vehicles, Electronic Products and Household Goods", "机动车、电子产品和日用产品修理业", nil},
		{"kghy_1503", "Other Services", "其他服务业", nil},
	}},
	{"kghy_16", "Education", "教育", []trade{
		{"kghy_1601", "Education", "教育", nil},
	}},
	{"kghy_17", "Health and Social Work", "卫生和社会工作", []trade{
		{"kghy_1701", "Health", "卫生", nil},
		{"kghy_1702", "Social Work", "社会工作", nil},
	}},
	{"kghy_18", "Culture, Sports and Entertainment", "文化、体育和娱乐业", []trade{
		{"kghy_1801", "News and Publishing", "新闻和出版业", nil},
		{"kghy_1802", "Radio, Television, Film and Sound Recording Production", "广播、电视、电影和录音制作业", nil},
		{"kghy_1803", "Culture and Arts", "文化艺术业", nil},
		{"kghy_1804", "Sports", "体育", nil},
		{"kghy_1805", "Entertainment", "娱乐业", nil},
	}},
	{"kghy_19", "Public Administration, Social Security and Social Organizations", "公共管理、社会保障和社会组织", []trade{
		{"kghy_1901", "Organs of the Communist Party of China", "中国共产党机关", nil},
		{"kghy_1902", "State Organs", "国家机构", nil},
		{"kghy_1903", "CPPCC and Democratic Parties", "人民政协、民主党派", nil},
		{"kghy_1904", "Social Security", "社会保障", nil},
		{"kghy_1905", "Mass Organizations, Social Organizations and Other Membership Organizations", "群众团体、社会团体和其他成员组织", nil},
		{"kghy_1906", "Grassroots Self-governing Organizations and Other Organizations", "基层群众自治组织及其他组织", nil},
	}},
	{"kghy_20", "International Organizations", "国际组织", []trade{
		{"kghy_2001", "International Organizations", "国际组织", nil},
	}},
}

// tradeList is the tree with the names of one language.
func tradeList(chinese bool) []tradeOneNode {
	name := func(t trade) string {
		if chinese {
			return t.zh
		}
		return t.en
	}
	out := make([]tradeOneNode, len(trades))
	for i, one := range trades {
		children := make([]tradeTwoNode, len(one.children))
		for j, two := range one.children {
			children[j] = tradeTwoNode{ID: two.id, Name: name(two), TradeInfo: one.id}
		}
		out[i] = tradeOneNode{ID: one.id, Name: name(one), Children: children}
	}
	return out
}

// chinese reports whether a request asked for Chinese (X-TC-Language or
// Language zh-CN, read as SendVerifyCode reads it for its SMS); anything else,
// en-US or nothing, gets English.
func chinese(req *tcapi.Request) bool { return delivery.NormalizeLocale(req.Language) == "zh_CN" }

// validTrade reports whether one is a first-level industry id and two one of
// its children.
func validTrade(one, two string) bool {
	for _, t := range trades {
		if t.id != one {
			continue
		}
		for _, c := range t.children {
			if c.id == two {
				return true
			}
		}
		return false
	}
	return false
}

// getTradeConfigList answers the industry tree in the request's language. It
// takes no parameters and touches no store.
func (s *svc) getTradeConfigList(_ context.Context, req *tcapi.Request) (any, error) {
	list := s.tradesEN
	if chinese(req) {
		list = s.tradesZH
	}
	return struct{ TradeList []tradeOneNode }{list()}, nil
}
