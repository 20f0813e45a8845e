/* linkage_study.c -- the accuracy of person linkage on synthetic people
 * with known duplicates (docs/linkage.md, "Accuracy").
 *
 *   make study                    (= build/linkage_study)
 *   build/linkage_study [--people N] [--seed S]
 *
 * Makes a population (deterministic from the seed) of Vietnamese, Khmer,
 * Burmese, Indonesian, Lao, Thai and Filipino people with names from the
 * tables below, birth dates and sex; three organisations each report an
 * overlapping subset, each record with at most one realistic error
 * (transliteration variant, diacritics dropped, decomposed Unicode, typo,
 * swapped day and month, missing or partial birth date, missing given name,
 * given/family order swapped, whole name in one field, native script, year
 * off by one, sex missing). Every record is encoded with person_encode's
 * parameters (the partner's side) and linked with pprl_link_orgs (the
 * hub's side) at thresholds 0.60 .. 0.95; prints markdown tables:
 * precision, recall and F1 per threshold, recall per error, blocking pair
 * completeness and reduction ratio, and design alternatives. The output
 * depends only on the seed and the code (no timings). */
#include "person.h"
#include "pprl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

/* ---- name tables: "Canonical|variant|variant...". For Vietnamese the
 * canonical form carries its diacritics and the second form is the same
 * without them (what "diacritics dropped" writes); further forms are the
 * transliteration variants and misspellings partners actually use. */
static const char *const VN_F[] = {
    "Nguyễn|Nguyen|Ngyuen|Nguen", "Trần|Tran|Trann", "Lê|Le|Lee", "Phạm|Pham|Fam",
    "Hoàng|Hoang|Hoangh", "Huỳnh|Huynh|Huinh", "Phan|Phan|Fan", "Vũ|Vu|Vuu",
    "Võ|Vo|Voo", "Đặng|Dang|Dhang", "Bùi|Bui|Buoi", "Đỗ|Do|Doh", "Hồ|Ho|Hoo",
    "Ngô|Ngo|Ngoh", "Dương|Duong|Zuong", "Lý|Ly|Lee", "Đinh|Dinh|Dihn", "Đào|Dao|Dau",
    "Cao|Cao|Kao", "Lâm|Lam|Lamm", "Mai|Mai|May", "Trịnh|Trinh|Chinh", "Lương|Luong|Luang",
    "Tạ|Ta|Tah", "Hà|Ha|Haa", "Tô|To|Toh", "Châu|Chau|Chou", "Quách|Quach|Kuach",
    "Kiều|Kieu|Kieuh", "Thái|Thai|Thay", "Vương|Vuong|Vong", "Phùng|Phung|Fung",
};
static const char *const VN_M[] = {
    "Thị|Thi|Thy", "Văn|Van|Vann", "Đức|Duc|Duk", "Minh|Minh|Min", "Ngọc|Ngoc|Ngok",
    "Hữu|Huu|Hu", "Quang|Quang|Kwang", "Thanh|Thanh|Tanh", "Xuân|Xuan|Suan", "Hồng|Hong|Hongh",
};
static const char *const VN_G[] = {
    "Ánh|Anh|Ahn", "Hùng|Hung|Huong", "Mai|Mai|May", "Lan|Lan|Lann", "Hương|Huong|Houng",
    "Linh|Linh|Lin", "Trang|Trang|Chang", "Thảo|Thao|Tao", "Dũng|Dung|Zung", "Tuấn|Tuan|Tuaan",
    "Hải|Hai|Hay", "Nam|Nam|Namm", "Phương|Phuong|Fuong", "Hà|Ha|Haa", "Hạnh|Hanh|Hahn",
    "Yến|Yen|Yenn", "Nhung|Nhung|Nung", "Thủy|Thuy|Thuey", "Loan|Loan|Loann", "Hiếu|Hieu|Hiew",
    "Khánh|Khanh|Kanh", "Long|Long|Lung", "Quân|Quan|Kuan", "Sơn|Son|Sonn", "Tâm|Tam|Tamm",
    "Thắng|Thang|Tang", "Vy|Vy|Vi", "Nga|Nga|Ngah", "Hòa|Hoa|Hwa", "Phúc|Phuc|Fuc",
    "Cường|Cuong|Kuong", "Duy|Duy|Zuy", "Giang|Giang|Zang",
};
static const char *const TH_G[] = {
    "Somchai|Somchay|Somchaai", "Somsak|Somsack|Somsuk", "Siriporn|Siripon|Siriphorn",
    "Malee|Mali|Malii", "Suda|Sudaa|Sooda", "Anong|Anonk|Anongk", "Wichai|Vichai|Wichay",
    "Prasert|Prasoet|Prasertt", "Kanya|Kunya|Ganya", "Niran|Nirun|Nirand",
    "Nattapong|Natthaphong|Nattaphong", "Pornthip|Porntip|Phornthip", "Apinya|Aphinya|Apinyah",
    "Thitima|Titima|Thidima", "Chatchai|Chatchay|Chadchai", "Kittisak|Kittisack|Kittisuk",
    "Supaporn|Suphaporn|Supaphon", "Wanida|Vanida|Wanidaa", "Preecha|Pricha|Preechaa",
    "Jintana|Chintana|Jintanaa", "Ratana|Rattana|Ratna", "Sakchai|Sakchay|Sakchaai",
    "Boonmee|Bunmi|Boonmi", "Orathai|Orathay|Oratai", "Pimchanok|Phimchanok|Pimchanoke",
    "Sunisa|Sunisaa|Soonisa", "Thanawat|Thanawath|Tanawat", "Waraporn|Waraphorn|Varaporn",
    "Yupin|Yupinn|Yuphin", "Kannika|Kanika|Kunnika", "Arthit|Athit|Artit",
};
static const char *const TH_F[] = {
    "Srisuk|Srisook|Sisuk", "Jaidee|Chaidee|Jaidi", "Thongchai|Tongchai|Thongchay",
    "Saetang|Sae-tang|Saetung", "Boonma|Bunma|Boonmah", "Wongsawat|Wongsawad|Vongsawat",
    "Sukprasert|Sukprasoet|Sookprasert", "Rattanakorn|Rattanakon|Ratanakorn",
    "Kaewkla|Kaewklah|Kaewkra", "Phromma|Promma|Phrommah", "Chaiyaporn|Chaiyaphon|Chaiyaporn",
    "Suwannarat|Suwanrat|Suwannarath", "Boonyarat|Bunyarat|Boonyarath", "Sriwong|Sriwongse|Siwong",
    "Thongdee|Tongdee|Thongdi", "Inthasorn|Intasorn|Inthason", "Kongkaew|Kongkeaw|Kongkaeo",
    "Siriwat|Sirivat|Siriwath", "Panyasiri|Panyasri|Panyasirri", "Chantarasorn|Chantharasorn|Chantarason",
    "Phetsuk|Petsuk|Phetsook", "Wongsuwan|Wongsuwann|Vongsuwan", "Meesuk|Mesuk|Meesook",
    "Nakprasert|Nakprasoet|Nakprasert", "Somboon|Sombun|Somboonn", "Rungruang|Roongruang|Rungrueang",
    "Saelim|Sae-lim|Saelimm", "Chaisiri|Chaisri|Chaisirri", "Srisawat|Srisawad|Sisawat",
    "Khamphan|Kamphan|Khamphanh", "Pongsiri|Phongsiri|Pongsirri",
};
static const char *const LA_G[] = {
    "Somsak|Somsack|Somsuk", "Souksavanh|Souksavan|Suksavanh|Souksavane",
    "Phonsavanh|Phonsavan|Phonesavanh", "Khamla|Khamlah|Kamla", "Bounmy|Bounmi|Bunmy",
    "Vilayphone|Vilayphon|Vilaiphone", "Sengphet|Sengpheth|Sengpet", "Noy|Noi|Noyy",
    "Keo|Kaeo|Keoh", "Chanthala|Chanthalah|Chantala", "Somphone|Somphon|Sompone",
    "Viengkham|Vienkham|Viengkam", "Khamphet|Khamphetth|Kamphet", "Bounthavy|Bounthavi|Bunthavy",
    "Thongchanh|Thongchan|Tongchanh", "Manivanh|Manivan|Manivahn", "Phetsamone|Phetsamon|Petsamone",
    "Sisouk|Sisuk|Sisouck", "Vanh|Van|Vahn", "Latsamy|Latsami|Ratsamy", "Khampheng|Kamphaeng|Khamphaeng",
    "Outhai|Outhay|Uthai", "Daovone|Daovong|Daovonh", "Somchith|Somchit|Somchitt",
    "Kongkeo|Kongkaeo|Kongkeoh", "Bouasone|Bouason|Buasone", "Sengdao|Sengdaw|Sengdaoh",
    "Phouvong|Phuvong|Pouvong", "Malaythong|Malaithong|Malaythongh", "Soulivanh|Soulivan|Sulivanh",
    "Xaysomphone|Saysomphone|Xaysomphon",
};
static const char *const LA_F[] = {
    "Phommachanh|Phommachan|Phomachanh", "Vongsa|Vongsaa|Wongsa", "Sisombath|Sisombat|Sisomphat",
    "Keomany|Keomani|Kaeomany", "Inthavong|Inthavongs|Intavong", "Souvannavong|Souvanavong|Suvannavong",
    "Phetsavong|Phetsavongs|Petsavong", "Sengdara|Sengdarah|Sengdala", "Douangmala|Duangmala|Douangmalah",
    "Xaysana|Saysana|Xaisana", "Phommasone|Phommason|Phomasone", "Siphandone|Siphandon|Siphandonh",
    "Vongphachanh|Vongphachan|Vongpachanh", "Keophila|Kaeophila|Keopila", "Luangrath|Louangrath|Luangrat",
    "Sayavong|Xayavong|Sayavongs", "Bounyavong|Bounyavongs|Bunyavong", "Khamvongsa|Kamvongsa|Khamvongxa",
    "Rattanavong|Ratanavong|Rattanavongs", "Sengsouvanh|Sengsouvan|Sengsuvanh", "Thammavong|Thamavong|Tammavong",
    "Chanthavong|Chantavong|Chanthavongs", "Phanthavong|Phantavong|Panthavong", "Sihavong|Sihavongs|Sihawong",
    "Souksavath|Souksavat|Suksavath", "Manivong|Maniwong|Manivongs", "Vilaysack|Vilaysak|Vilaisack",
    "Insixiengmay|Insisiengmay|Insixiengmai", "Southammavong|Southamavong|Suthammavong",
    "Phimmasone|Phimmason|Pimmasone", "Keovongsa|Kaeovongsa|Keovongxa",
};
static const char *const KH_F[] = {
    "Sok|Sokh|Sokk", "Chan|Chann|Chanh", "Heng|Hengh|Hen", "Keo|Kaev|Keov", "Meas|Mes|Meah",
    "Chea|Chear|Chia", "Ouk|Ouch|Uk", "Pen|Penh|Penn", "Sam|Samm|Sahm", "Lim|Lym|Limm",
    "Prak|Prakh|Prack", "Srey|Srei|Sray", "Touch|Toch|Tuoch", "Vong|Vung|Vongh", "Hem|Hemm|Him",
    "Kim|Kym|Kimm", "Ly|Lee|Lyy", "Mao|Mau|Maoh", "Nhem|Nhim|Nhemm", "Oum|Um|Oeum",
    "Phan|Phann|Phanh", "Ros|Rous|Ross", "Seng|Sang|Sengh", "Tep|Tepp|Teb", "Yim|Yem|Yimm",
    "Chhun|Chhoun|Chun", "Khiev|Khiv|Kiev", "Long|Loung|Longh", "Nuon|Noun|Nuonn", "Sar|Sa|Sarr",
    "Hun|Hunn|Houn", "Pich|Pech|Pichh",
};
static const char *const KH_G[] = {
    "Dara|Darah|Daraa", "Sophea|Sophia|Sopheap", "Sokha|Sokhar|Sokhaa", "Vanna|Vana|Vannah",
    "Bopha|Bophar|Popha", "Rithy|Rithi|Rethy", "Piseth|Piset|Pisith", "Visal|Visaal|Vishal",
    "Sreymom|Srey Mom|Sreymum", "Kosal|Kusal|Kosol", "Channary|Chanary|Channari",
    "Sothea|Sotheara|Sotea", "Vuthy|Vuthi|Voeuthy", "Sopheak|Sophak|Sopheakh",
    "Chanthou|Chantho|Chanthu", "Sokunthea|Sokunthia|Sokunthea", "Leakhena|Leakena|Liakhena",
    "Rathana|Ratana|Rattana", "Makara|Makarah|Makkara", "Phalla|Phala|Phallah",
    "Samnang|Samnangh|Somnang", "Veasna|Veasana|Visna", "Kimheng|Kim Heng|Kimhing",
    "Sreynich|Srey Nich|Sreynech", "Borey|Bory|Borei", "Chenda|Chendaa|Chinda", "Davy|Davi|Davey",
    "Narith|Nareth|Narit", "Thida|Theda|Tida", "Pisey|Pisei|Pisay", "Serey|Serei|Sorey",
};
/* Burmese names have no family name: two or three of these syllables */
static const char *const MM_S[] = {
    "Aung|Aong|Aoung", "Kyaw|Kyau|Chaw", "Htet|Htut|Htett", "Mya|Myah|Myaa", "Zaw|Zau|Zawe",
    "Win|Winn|Wyn", "Myint|Mint|Myintt", "Naing|Naine|Nai", "Soe|So|Soei", "Thu|Thuu|Tu",
    "Khin|Khinn|Kin", "Su|Suu|Soo", "Phyo|Pyo|Phyoe", "Moe|Mo|Moh", "Hnin|Hninn|Nin",
    "Tun|Tunn|Htun", "Oo|U|Ooo", "Lwin|Lwinn|Lwinh", "Maung|Mg|Muang", "San|Sann|Sanh",
    "Min|Minn|Myn", "Hlaing|Hlaine|Laing", "Thant|Than|Thantt", "Wai|Wei|Way", "Ei|Eii|Ay",
    "Nwe|Nway|Nwae", "Cho|Kyo|Choe", "May|Mey|Mae", "Zin|Zinn|Zinh", "Lin|Linn|Lynn",
    "Nyein|Nyain|Nyeinn", "Thiri|Thirie|Thiree", "Yadanar|Yadana|Yadanarr", "Thandar|Thanda|Thandarr",
    "Khaing|Khine|Khaingg", "Htay|Htei|Htayy", "Kyi|Chi|Kyii", "Myo|Myoe|Myoo", "Ye|Yay|Yee",
    "Naung|Nong|Naungg",
};
static const char *const ID_G[] = {
    "Siti|Sitti|Sity", "Dewi|Devi|Dewie", "Agus|Agoes|Aguss", "Budi|Boedi|Budy", "Sri|Srie|Srii",
    "Joko|Djoko|Jokko", "Yusuf|Jusuf|Yusup", "Ahmad|Achmad|Ahmat", "Nur|Noer|Nurr",
    "Wahyu|Wahju|Wahyoe", "Rina|Rinah|Rinna", "Eko|Ekko|Ekoh", "Putri|Poetri|Putry", "Ayu|Ayoe|Ayuu",
    "Fitri|Fitrie|Fitry", "Indah|Inda|Indahh", "Yanti|Janti|Yantie", "Dian|Dyan|Diann",
    "Rudi|Roedi|Rudy", "Hendra|Hendrah|Hendraa", "Andi|Andy|Andie", "Bambang|Bambank|Bambangg",
    "Suryani|Soeryani|Suryanie", "Lestari|Lestary|Lestarri", "Wulan|Woelan|Wulann",
    "Rizky|Rizki|Riski", "Fajar|Fadjar|Fajr", "Ratna|Ratnah|Ratnaa", "Teguh|Tegoeh|Tegu",
    "Slamet|Selamet|Slamat", "Yuni|Joeni|Yunie",
};
static const char *const ID_F[] = {
    "Setiawan|Setyawan|Setiawann", "Santoso|Santosa|Soentoso", "Rahayu|Rahajoe|Rahaju",
    "Wibowo|Wibawa|Wibowoo", "Susanto|Soesanto|Susantoh", "Hidayat|Hidajat|Hidayatt",
    "Kurniawan|Koerniawan|Kurniawann", "Pratama|Prathama|Pratamaa", "Saputra|Saputera|Syahputra",
    "Nugroho|Nugraha|Noegroho", "Wijaya|Widjaja|Wijaja", "Suharto|Soeharto|Suhartoh",
    "Purnomo|Poernomo|Purnomoo", "Hartono|Hartonoh|Hartonno", "Gunawan|Goenawan|Gunawann",
    "Sutrisno|Soetrisno|Sutrisnoo", "Utomo|Oetomo|Utomoo", "Hakim|Hakiem|Hakimm",
    "Siregar|Siregarr|Siregaar", "Simanjuntak|Simanjuntack|Simanjuntakk", "Nasution|Nasoetion|Nasutionn",
    "Harahap|Harahapp|Harahab", "Sembiring|Sembiringg|Sembirinh", "Wahyudi|Wahjoedi|Wahyudie",
    "Prasetyo|Prasetio|Prasetya", "Firmansyah|Firmansjah|Firmansah", "Ramadhan|Ramadan|Ramadhann",
    "Permana|Permanah|Permanna", "Sulistyo|Soelistyo|Sulistio", "Handoko|Handokoh|Handokko",
};
static const char *const PH_G[] = {
    "Maria|Marya|Mariah", "Jose|Josee|Jos", "Juan|Joan|Juann", "Mark|Marc|Markk",
    "John Paul|Johnpaul|Jhon Paul", "Jennifer|Jenifer|Jeniffer", "Mary Joy|Maryjoy|Mary Jhoy",
    "Rowena|Roweena|Rowina", "Marites|Maritess|Maritez", "Jericho|Jerico|Jericko",
    "Angelica|Anjelica|Angelika", "Cristina|Kristina|Christina", "Rhea|Rea|Rheaa",
    "Lovely|Lovelie|Lovelyn", "Arnel|Arnell|Arnelle", "Jonathan|Jonatan|Johnathan",
    "Rodel|Rodell|Rhodel", "Ricardo|Rikardo|Ricardoh", "Maricel|Marisel|Maricell", "Joy|Joi|Joyy",
    "Rachelle|Rachel|Rashelle", "Michael|Micheal|Mikael", "Jhon|John|Jhonn",
    "Analyn|Anna Lyn|Annalyn", "Rommel|Romel|Rommell", "Ferdinand|Ferdinan|Ferdinando",
    "Grace|Grase|Gracee", "Jasmin|Jasmine|Yasmin", "Kimberly|Kimberlie|Kimberley",
    "Aileen|Ailene|Eileen", "Rogelio|Rojelio|Rogeliio",
};
static const char *const PH_F[] = {
    "Santos|Santoz|Santoss", "Reyes|Reyez|Reyess", "Cruz|Kruz|Cruzz", "Dela Cruz|Delacruz|De la Cruz",
    "Bautista|Bautizta|Baptista", "Ocampo|Okampo|Ocampoo", "Garcia|Garsia|Garciaa",
    "Mendoza|Mendosa|Mendozza", "Torres|Torrez|Tores", "Villanueva|Villa Nueva|Vilanueva",
    "Ramos|Ramoz|Ramoss", "Aquino|Akino|Aquinoo", "Castillo|Castilio|Castilyo", "Flores|Florez|Floress",
    "Gonzales|Gonzalez|Gonsales", "Navarro|Navaro|Nabarro", "Domingo|Domingoh|Dominggo",
    "Mercado|Mercardo|Merkado", "Pascual|Pascal|Pascuall", "Soriano|Sorriano|Sorianoo",
    "Fernandez|Fernandes|Fernandezz", "Lopez|Lopes|Lopezz", "Rivera|Ribera|Riverra",
    "Perez|Peres|Perezz", "Aguilar|Agilar|Aguilarr", "Manalo|Manalu|Manaloo", "Dizon|Dison|Dizonn",
    "Salazar|Salasar|Salazarr", "Marquez|Marques|Markez", "Tolentino|Tolentinoh|Tolentinno",
    "De Guzman|Deguzman|De Gusman", "Macaraeg|Makaraeg|Macaraig",
};
/* Native spellings of some of the Latin forms above, for the test of a
 * partner that wrote the name in its own script. */
static const char *const NATIVE[][3] = {
    {"THA", "Somchai", "สมชาย"}, {"THA", "Somsak", "สมศักดิ์"}, {"THA", "Siriporn", "ศิริพร"}, {"THA", "Malee", "มาลี"},
    {"THA", "Suda", "สุดา"}, {"THA", "Anong", "อนงค์"}, {"THA", "Wichai", "วิชัย"}, {"THA", "Prasert", "ประเสริฐ"},
    {"THA", "Kanya", "กัญญา"}, {"THA", "Niran", "นิรันดร์"},
    {"THA", "Srisuk", "ศรีสุข"}, {"THA", "Jaidee", "ใจดี"}, {"THA", "Thongchai", "ธงชัย"}, {"THA", "Saetang", "แซ่ตั้ง"},
    {"THA", "Boonma", "บุญมา"}, {"THA", "Wongsawat", "วงศ์สวัสดิ์"}, {"THA", "Sukprasert", "สุขประเสริฐ"},
    {"THA", "Rattanakorn", "รัตนากร"}, {"THA", "Kaewkla", "แก้วกล้า"}, {"THA", "Phromma", "พรหมมา"},
    {"LAO", "Souksavanh", "ສຸກສະຫວັນ"}, {"LAO", "Phonsavanh", "ພອນສະຫວັນ"}, {"LAO", "Khamla", "ຄຳລາ"},
    {"LAO", "Bounmy", "ບຸນມີ"}, {"LAO", "Vilayphone", "ວິໄລພອນ"}, {"LAO", "Sengphet", "ແສງເພັດ"}, {"LAO", "Noy", "ນ້ອຍ"},
    {"LAO", "Keo", "ແກ້ວ"}, {"LAO", "Chanthala", "ຈັນທະລາ"},
    {"LAO", "Phommachanh", "ພົມມະຈັນ"}, {"LAO", "Vongsa", "ວົງສາ"}, {"LAO", "Sisombath", "ສີສົມບັດ"},
    {"LAO", "Keomany", "ແກ້ວມະນີ"}, {"LAO", "Inthavong", "ອິນທະວົງ"}, {"LAO", "Souvannavong", "ສຸວັນນະວົງ"},
    {"LAO", "Phetsavong", "ເພັດສະວົງ"}, {"LAO", "Sengdara", "ແສງດາລາ"}, {"LAO", "Douangmala", "ດວງມາລາ"},
    {"LAO", "Xaysana", "ໄຊຍະສານ"},
    {"KHM", "Sok", "សុខ"}, {"KHM", "Chan", "ចាន់"}, {"KHM", "Heng", "ហេង"}, {"KHM", "Meas", "មាស"}, {"KHM", "Chea", "ជា"},
    {"KHM", "Ouk", "អ៊ុក"}, {"KHM", "Pen", "ប៉ែន"}, {"KHM", "Sam", "សំ"}, {"KHM", "Lim", "លឹម"},
    {"KHM", "Dara", "ដារ៉ា"}, {"KHM", "Sophea", "សុភា"}, {"KHM", "Sokha", "សុខា"}, {"KHM", "Vanna", "វណ្ណា"},
    {"KHM", "Bopha", "បុប្ផា"}, {"KHM", "Rithy", "រិទ្ធី"}, {"KHM", "Piseth", "ពិសិដ្ឋ"}, {"KHM", "Visal", "វិសាល"},
    {"KHM", "Sreymom", "ស្រីមុំ"}, {"KHM", "Kosal", "កុសល"},
    {"MMR", "Aung", "အောင်"}, {"MMR", "Kyaw", "ကျော်"}, {"MMR", "Htet", "ထက်"}, {"MMR", "Mya", "မြ"}, {"MMR", "Zaw", "ဇော်"},
    {"MMR", "Win", "ဝင်း"}, {"MMR", "Myint", "မြင့်"}, {"MMR", "Naing", "နိုင်"}, {"MMR", "Soe", "စိုး"}, {"MMR", "Thu", "သူ"},
    {"MMR", "Khin", "ခင်"}, {"MMR", "Su", "စု"}, {"MMR", "Phyo", "ဖြိုး"}, {"MMR", "Moe", "မိုး"}, {"MMR", "Hnin", "နှင်း"},
    {"MMR", "Tun", "ထွန်း"}, {"MMR", "Oo", "ဦး"}, {"MMR", "Lwin", "လွင်"}, {"MMR", "Maung", "မောင်"}, {"MMR", "San", "စန်း"},
    {"MMR", "Min", "မင်း"}, {"MMR", "Hlaing", "လှိုင်"}, {"MMR", "Thant", "သန့်"}, {"MMR", "Wai", "ဝေ"}, {"MMR", "Ei", "အိ"},
    {"MMR", "Nwe", "နွယ်"}, {"MMR", "Cho", "ချို"}, {"MMR", "May", "မေ"}, {"MMR", "Zin", "ဇင်"}, {"MMR", "Lin", "လင်း"},
    {"MMR", "Nyein", "ငြိမ်း"}, {"MMR", "Thiri", "သီရိ"}, {"MMR", "Yadanar", "ရတနာ"}, {"MMR", "Thandar", "သန္တာ"},
    {"MMR", "Khaing", "ခိုင်"}, {"MMR", "Htay", "ဌေး"}, {"MMR", "Kyi", "ကြည်"}, {"MMR", "Myo", "မျိုး"}, {"MMR", "Ye", "ရဲ"},
    {"MMR", "Naung", "နောင်"},
};

/* ---------------------------------------------------------- population */

typedef struct nat_t {
    const char *code;             /* the codebook's country code */
    const char *const *given; size_t ng;
    const char *const *family; size_t nf;
    int share;                    /* per cent of the population */
} nat_t;

#define N(a) (sizeof a / sizeof *a)
static const nat_t NATS[] = {
    {"VNM", VN_G, N(VN_G), VN_F, N(VN_F), 25},
    {"KHM", KH_G, N(KH_G), KH_F, N(KH_F), 15},
    {"MMR", MM_S, N(MM_S), NULL, 0, 15},
    {"IDN", ID_G, N(ID_G), ID_F, N(ID_F), 15},
    {"LAO", LA_G, N(LA_G), LA_F, N(LA_F), 10},
    {"THA", TH_G, N(TH_G), TH_F, N(TH_F), 10},
    {"PHL", PH_G, N(PH_G), PH_F, N(PH_F), 10},
};

#define MAXW 4
typedef struct truth {
    int nat;
    const char *g[MAXW]; int ng;  /* name entries ("Canon|var|..") */
    const char *f[MAXW]; int nf;
    int y, m, d;
    char sex;
} truth;

static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
    return rs * 2685821657736338717ULL;
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static void make_person(truth *t)
{
    memset(t, 0, sizeof *t);
    unsigned r = rn(100), acc = 0;
    for (size_t i = 0; i < N(NATS); i++) {
        acc += (unsigned)NATS[i].share;
        if (r < acc) { t->nat = (int)i; break; }
    }
    const nat_t *n = &NATS[t->nat];
    const char *c = n->code;
    if (strcmp(c, "MMR") == 0) {
        /* no family name: forms take the last syllable as "family" */
        int k = 2 + (int)rn(2);
        for (int i = 0; i < k - 1; i++) t->g[t->ng++] = n->given[rn((unsigned)n->ng)];
        t->f[t->nf++] = n->given[rn((unsigned)n->ng)];
    } else if (strcmp(c, "VNM") == 0) {
        if (rn(100) < 85) t->g[t->ng++] = VN_M[rn(N(VN_M))];
        t->g[t->ng++] = n->given[rn((unsigned)n->ng)];
        t->f[t->nf++] = n->family[rn((unsigned)n->nf)];
    } else if (strcmp(c, "IDN") == 0 && rn(100) < 40) {
        t->g[t->ng++] = rn(2) ? n->given[rn((unsigned)n->ng)] : n->family[rn((unsigned)n->nf)];
    } else {
        t->g[t->ng++] = n->given[rn((unsigned)n->ng)];
        t->f[t->nf++] = n->family[rn((unsigned)n->nf)];
    }
    /* victims are mostly young adults */
    t->y = 1975 + (int)rn(16) + (int)rn(16);
    t->m = 1 + (int)rn(12);
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    t->d = 1 + (int)rn((unsigned)dm[t->m - 1]);
    t->sex = rn(100) < 55 ? 'm' : 'f';
}

/* The n-th "|"-separated form of an entry into out; 0 = canonical. */
static void form(const char *entry, int k, char *out, size_t cap)
{
    const char *p = entry;
    for (int i = 0; i < k; i++) {
        const char *bar = strchr(p, '|');
        if (!bar) break;
        p = bar + 1;
    }
    size_t l = strcspn(p, "|");
    if (l >= cap) l = cap - 1;
    memcpy(out, p, l);
    out[l] = '\0';
}
static int nforms(const char *entry)
{
    int n = 1;
    for (const char *p = entry; *p; p++) n += *p == '|';
    return n;
}
static const char *native_of(const char *nat, const char *entry)
{
    char c[64];
    form(entry, 0, c, sizeof c);
    for (size_t i = 0; i < N(NATIVE); i++)
        if (strcmp(NATIVE[i][0], nat) == 0 && strcmp(NATIVE[i][1], c) == 0) return NATIVE[i][2];
    return NULL;
}

/* ---------------------------------------------------------- errors */

enum { E_NONE, E_TRANSLIT, E_DIACRITICS, E_NFD, E_TYPO, E_SWAP_DM, E_DOB_MISSING,
       E_DOB_PARTIAL, E_GIVEN_MISSING, E_ORDER, E_ONE_FIELD, E_NATIVE, E_YOB_TYPO,
       E_SEX_MISSING, E_COUNT, E_TWO = E_COUNT, E_LABELS };
static const char *const ERR_NAME[E_LABELS] = {
    "none", "transliteration variant", "diacritics dropped", "decomposed Unicode (NFD)",
    "one-character typo", "day and month swapped", "birth date missing",
    "birth date partial (yyyy or yyyy-mm)", "given name missing", "given/family order swapped",
    "whole name in one field", "native script (Thai/Lao/Khmer/Burmese)",
    "year of birth off by one", "sex missing", "errors in both records",
};
/* per cent of records an organisation reports with each error */
static const int ERR_RATE[E_COUNT] = {52, 10, 6, 2, 8, 4, 3, 3, 3, 4, 2, 1, 1, 1};

typedef struct rec {
    char given[200], family[200], dob[40], sex[4], nat[4];
    int person, org, err;
} rec;

static int applicable(const truth *t, int e)
{
    const char *nat = NATS[t->nat].code;
    switch (e) {
    case E_TRANSLIT: return 1;
    case E_DIACRITICS: case E_NFD: return strcmp(nat, "VNM") == 0;
    case E_SWAP_DM: return t->d <= 12 && t->d != t->m;
    case E_GIVEN_MISSING: case E_ORDER: case E_ONE_FIELD: return t->ng && t->nf;
    case E_NATIVE:
        if (strcmp(nat, "VNM") == 0 || strcmp(nat, "IDN") == 0 || strcmp(nat, "PHL") == 0) return 0;
        for (int i = 0; i < t->ng; i++) if (!native_of(nat, t->g[i])) return 0;
        for (int i = 0; i < t->nf; i++) if (!native_of(nat, t->f[i])) return 0;
        return 1;
    default: return 1;
    }
}

static void join(const char *const *w, int n, const truth *t, int mode, int vw, char *out, size_t cap)
{
    const char *nat = NATS[t->nat].code;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char f[64];
        if (mode == E_NATIVE) snprintf(f, sizeof f, "%s", native_of(nat, w[i]));
        else if (mode == E_DIACRITICS && nforms(w[i]) > 1 && strcmp(nat, "VNM") == 0) form(w[i], 1, f, sizeof f);
        else if (i == vw) {
            /* a transliteration variant: never the canonical form, and for
             * Vietnamese never the mere dropping of diacritics */
            int lo = strcmp(nat, "VNM") == 0 ? 2 : 1, nf = nforms(w[i]);
            form(w[i], nf > lo ? lo + (int)rn((unsigned)(nf - lo)) : 0, f, sizeof f);
        } else form(w[i], 0, f, sizeof f);
        if (i) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, f, cap - strlen(out) - 1);
    }
}

/* One character edit at an ASCII letter: substitute, delete, insert or
 * swap with the next letter. */
static void typo(char *s)
{
    size_t n = strlen(s), pos[200], np = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) pos[np++] = i;
    if (!np) return;
    size_t i = pos[rn((unsigned)np)];
    char c = (char)('a' + rn(26));
    switch (rn(4)) {
    case 0: s[i] = c == s[i] ? (char)(c == 'z' ? 'a' : c + 1) : c; break;
    case 1: if (np > 2) memmove(s + i, s + i + 1, n - i); break;
    case 2: if (n + 1 < 200) { memmove(s + i + 1, s + i, n - i + 1); s[i] = c; } break;
    default:
        if (i + 1 < n && ((s[i + 1] >= 'a' && s[i + 1] <= 'z'))) { char x = s[i]; s[i] = s[i + 1]; s[i + 1] = x; }
        else s[i] = c == s[i] ? (char)(c == 'z' ? 'a' : c + 1) : c;
    }
}

static void report(const truth *t, int person, int org, rec *r)
{
    int e;
    do {
        unsigned x = rn(100), acc = 0;
        for (e = 0; e < E_COUNT; e++) {
            acc += (unsigned)ERR_RATE[e];
            if (x < acc) break;
        }
        if (e >= E_COUNT) e = E_NONE;
    } while (!applicable(t, e));
    memset(r, 0, sizeof *r);
    r->person = person;
    r->org = org;
    r->err = e;
    int vw = -1, vf = -1;
    if (e == E_TRANSLIT) {
        int k = (int)rn((unsigned)(t->ng + t->nf));
        if (k < t->ng) vw = k; else vf = k - t->ng;
    }
    join(t->g, t->ng, t, e, vw, r->given, sizeof r->given);
    join(t->f, t->nf, t, e, vf, r->family, sizeof r->family);
    int y = t->y, m = t->m, d = t->d;
    snprintf(r->sex, sizeof r->sex, "%c", t->sex);
    snprintf(r->nat, sizeof r->nat, "%s", NATS[t->nat].code);
    switch (e) {
    case E_NFD: {
        size_t l = 0;
        uint8_t *g = u8_normalize(UNINORM_NFD, (const uint8_t *)r->given, strlen(r->given), NULL, &l);
        if (g && l < sizeof r->given) { memcpy(r->given, g, l); r->given[l] = '\0'; }
        free(g);
        g = u8_normalize(UNINORM_NFD, (const uint8_t *)r->family, strlen(r->family), NULL, &l);
        if (g && l < sizeof r->family) { memcpy(r->family, g, l); r->family[l] = '\0'; }
        free(g);
        break;
    }
    case E_TYPO: typo(t->nf && rn(2) ? r->family : r->given); break;
    case E_SWAP_DM: { int x = m; m = d; d = x; break; }
    case E_GIVEN_MISSING: r->given[0] = '\0'; break;
    case E_ORDER: { char x[200]; memcpy(x, r->given, sizeof x); memcpy(r->given, r->family, sizeof x); memcpy(r->family, x, sizeof x); break; }
    case E_ONE_FIELD: {
        size_t gl = strlen(r->given);
        if (gl + 1 + strlen(r->family) < sizeof r->given) {
            r->given[gl] = ' ';
            memcpy(r->given + gl + 1, r->family, strlen(r->family) + 1);
        }
        r->family[0] = '\0';
        break;
    }
    case E_YOB_TYPO: y += rn(2) ? 1 : -1; if (m == 2 && d == 29) d = 28; break;
    case E_SEX_MISSING: r->sex[0] = '\0'; break;
    default: break;
    }
    if (e == E_DOB_MISSING) r->dob[0] = '\0';
    else if (e == E_DOB_PARTIAL && rn(2)) snprintf(r->dob, sizeof r->dob, "%04d", y);
    else if (e == E_DOB_PARTIAL) snprintf(r->dob, sizeof r->dob, "%04d-%02d", y, m);
    else snprintf(r->dob, sizeof r->dob, "%04d-%02d-%02d", y, m, d);
}

/* ---------------------------------------------------------- evaluation */

typedef struct study {
    rec *r; size_t n;
    uint64_t *bits; uint16_t *pc; uint64_t *block;
    size_t ntrue, true_by[E_LABELS];
    uint64_t all_pairs;          /* cross-organisation pairs without blocking */
} study;

static int pair_label(const rec *a, const rec *b)
{
    if (a->err == E_NONE) return b->err;
    if (b->err == E_NONE) return a->err;
    return E_TWO;
}

static int encode_all(study *s, const person_params *p, const uint8_t *key)
{
    sp_err e;
    sp_err_init(&e);
    for (size_t i = 0; i < s->n; i++) {
        person_in in = {s->r[i].given, s->r[i].family, s->r[i].dob, s->r[i].sex, s->r[i].nat};
        if (person_encode_with(p, key, &in, s->bits + i * PPRL_WORDS, &s->pc[i], &s->block[i], &e) != SP_OK) {
            fprintf(stderr, "record %zu (%s / %s / %s): ", i, s->r[i].given, s->r[i].family, s->r[i].dob);
            sp_err_print(&e, stderr);
            sp_err_free(&e);
            return 1;
        }
    }
    sp_err_free(&e);
    return 0;
}

typedef struct result {
    size_t tp, fp, tp_by[E_LABELS];
    uint64_t comparisons;
} result;

static int link_at(const study *s, float t, result *res)
{
    pprl_rec *pr = sp_xmalloc(s->n * sizeof *pr);
    for (size_t i = 0; i < s->n; i++)
        pr[i] = (pprl_rec){(uint32_t)s->r[i].org, s->block[i], s->bits + i * PPRL_WORDS, s->pc[i]};
    pprl_pair *pairs = NULL;
    size_t np = 0;
    pprl_link_stats st;
    sp_err e;
    sp_err_init(&e);
    int rc = pprl_link_orgs(pr, s->n, t, (size_t)50 * 1000 * 1000, NULL, &pairs, &np, &st, &e);
    memset(res, 0, sizeof *res);
    if (rc != SP_OK) { sp_err_print(&e, stderr); goto done; }
    res->comparisons = st.comparisons;
    for (size_t j = 0; j < np; j++) {
        const rec *a = &s->r[pairs[j].a], *b = &s->r[pairs[j].b];
        if (a->person == b->person) { res->tp++; res->tp_by[pair_label(a, b)]++; }
        else res->fp++;
    }
done:
    sp_err_free(&e);
    free(pairs);
    free(pr);
    return rc;
}

static double pct(double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; }

/* Blocking alone: how many true pairs share a block (pair completeness)
 * and how many cross-organisation comparisons it saves (reduction ratio). */
static void blocking(const study *s, const char *name, const uint64_t *blk)
{
    size_t same = 0;
    uint64_t comps = 0;
    /* count cross-org pairs per block: sort indices by block */
    /* simple counting with a hash table keyed by block */
    size_t cap = 1; while (cap < 4 * s->n) cap <<= 1;
    uint64_t *key = sp_xcalloc(cap, sizeof *key);
    uint32_t (*cnt)[3] = sp_xcalloc(cap, sizeof *cnt);
    uint8_t *used = sp_xcalloc(cap, 1);
    for (size_t i = 0; i < s->n; i++) {
        size_t h = (size_t)(blk[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
        while (used[h] && key[h] != blk[i]) h = (h + 1) & (cap - 1);
        used[h] = 1; key[h] = blk[i];
        cnt[h][s->r[i].org]++;
    }
    for (size_t h = 0; h < cap; h++)
        if (used[h]) comps += (uint64_t)cnt[h][0] * cnt[h][1] + (uint64_t)cnt[h][0] * cnt[h][2] +
                             (uint64_t)cnt[h][1] * cnt[h][2];
    /* records of one person are consecutive: person-major order */
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n && s->r[j].person == s->r[i].person; j++)
            same += blk[i] == blk[j];
    printf("| %s | %.2f%% | %.4f | %llu |\n", name, pct((double)same, (double)s->ntrue),
           1.0 - (double)comps / (double)s->all_pairs, (unsigned long long)comps);
    free(key); free(cnt); free(used);
}

int main(int argc, char **argv)
{
    size_t people = 10000;
    uint64_t seed = 20261203;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--people") == 0 && i + 1 < argc) people = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else { fprintf(stderr, "usage: linkage_study [--people N] [--seed S]\n"); return 2; }
    }
    if (people < 10 || people > 1000000) { fprintf(stderr, "linkage_study: --people 10..1000000\n"); return 2; }
    rs = seed ? seed : 1;
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)rnd();

    /* three organisations; each person is reported by each with its own
     * probability, so some by one, some by two, some by all three */
    static const unsigned share[3] = {50, 40, 30};
    study s = {0};
    s.r = sp_xmalloc(people * 3 * sizeof *s.r);
    size_t norg[3] = {0, 0, 0};
    for (size_t p = 0; p < people; p++) {
        truth t;
        make_person(&t);
        size_t first = s.n;
        for (int o = 0; o < 3; o++) {
            if (rn(100) >= share[o]) continue;
            report(&t, (int)p, o, &s.r[s.n++]);
            norg[o]++;
        }
        for (size_t i = first; i < s.n; i++)
            for (size_t j = i + 1; j < s.n; j++) { s.ntrue++; s.true_by[pair_label(&s.r[i], &s.r[j])]++; }
    }
    s.all_pairs = (uint64_t)norg[0] * norg[1] + (uint64_t)norg[0] * norg[2] + (uint64_t)norg[1] * norg[2];
    s.bits = sp_xmalloc(s.n * PPRL_WORDS * sizeof *s.bits);
    s.pc = sp_xmalloc(s.n * sizeof *s.pc);
    s.block = sp_xmalloc(s.n * sizeof *s.block);

    printf("# Linkage accuracy study\n\n");
    printf("%zu people (seed %llu), three organisations reporting %zu, %zu and %zu records; "
           "%zu true cross-organisation pairs; %llu cross-organisation pairs in all.\n\n",
           people, (unsigned long long)seed, norg[0], norg[1], norg[2], s.ntrue,
           (unsigned long long)s.all_pairs);

    if (encode_all(&s, &person_default, key)) return 1;
    double fill = 0;
    for (size_t i = 0; i < s.n; i++) fill += s.pc[i];
    printf("Default parameters; mean fill %.1f%% of %d bits. Linked with pprl_link_orgs "
           "(greedy 1:1 per pair of organisations) inside the default blocks (keyed year of birth).\n\n",
           100.0 * fill / (double)s.n / PPRL_BITS, PPRL_BITS);
    printf("| threshold | links | true | false | precision | recall | F1 |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    static const float TH[] = {0.60f, 0.65f, 0.70f, 0.75f, 0.80f, 0.85f, 0.90f, 0.95f};
    result res[N(TH)];
    uint64_t comps = 0;
    for (size_t k = 0; k < N(TH); k++) {
        if (link_at(&s, TH[k], &res[k]) != SP_OK) return 1;
        comps = res[k].comparisons;
        double P = pct((double)res[k].tp, (double)(res[k].tp + res[k].fp)) / 100.0;
        double R = (double)res[k].tp / (double)s.ntrue;
        printf("| %.2f | %zu | %zu | %zu | %.4f | %.4f | %.4f |\n", (double)TH[k],
               res[k].tp + res[k].fp, res[k].tp, res[k].fp, P, R, P + R > 0 ? 2 * P * R / (P + R) : 0);
    }
    printf("\nComparisons made (Dice computations, every threshold): %llu of %llu "
           "cross-organisation pairs.\n\n", (unsigned long long)comps, (unsigned long long)s.all_pairs);

    printf("Recall by error (the pair's label is the error of whichever record has one):\n\n");
    printf("| error | true pairs |");
    for (size_t k = 0; k < N(TH); k++) printf(" %.2f |", (double)TH[k]);
    printf("\n|---|---:|");
    for (size_t k = 0; k < N(TH); k++) printf("---:|");
    printf("\n");
    for (int l = 0; l < E_LABELS; l++) {
        if (!s.true_by[l]) continue;
        printf("| %s | %zu |", ERR_NAME[l], s.true_by[l]);
        for (size_t k = 0; k < N(TH); k++)
            printf(" %.3f |", (double)res[k].tp_by[l] / (double)s.true_by[l]);
        printf("\n");
    }

    /* blocking schemes, measured on the block keys alone */
    printf("\nBlocking (before any comparison):\n\n| block key | pair completeness | reduction ratio | comparisons |\n|---|---:|---:|---:|\n");
    uint64_t *blk = sp_xmalloc(s.n * sizeof *blk);
    static const struct { const char *name; person_block_mode m; } BM[] = {
        {"keyed year of birth (default)", PERSON_BLOCK_YOB},
        {"keyed (year of birth, sex)", PERSON_BLOCK_YOB_SEX},
        {"keyed first bigram of the family name", PERSON_BLOCK_FAMILY},
    };
    for (size_t b = 0; b < N(BM); b++) {
        person_params p = person_default;
        p.block = BM[b].m;
        if (encode_all(&s, &p, key)) return 1;
        memcpy(blk, s.block, s.n * sizeof *blk);
        blocking(&s, BM[b].name, blk);
    }
    memset(blk, 0, s.n * sizeof *blk);
    blocking(&s, "none", blk);
    free(blk);

    /* the design choices, each against the default: best F1 over the
     * thresholds, and the recall of the errors each choice is about */
    printf("\nDesign alternatives (each row changes one thing; best F1 over the thresholds above):\n\n");
    printf("| encoding | best F1 | at | precision | recall | order swapped | day/month swapped | one field | birth date missing |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    static const struct { const char *name; person_params p; } ALT[] = {
        {"default: words as a set (k=20); month, day, {day,month} (k=30 each); yob block", {0, 0, 20, 30, 30, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"classic CLK: given and family fields (k=20), no word set", {20, 20, 0, 30, 30, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"given+family fields (k=10) and the word set (k=15)", {10, 10, 15, 30, 30, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"no {day,month} pair token", {0, 0, 20, 30, 0, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"dates k=12", {0, 0, 20, 12, 12, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"dates k=20", {0, 0, 20, 20, 20, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"dates k=40", {0, 0, 20, 40, 40, 2, 2, 1, PERSON_BLOCK_YOB}},
        {"(year of birth, sex) block", {0, 0, 20, 30, 30, 2, 2, 1, PERSON_BLOCK_YOB_SEX}},
        {"no salt, keyed year-of-birth block", {0, 0, 20, 30, 30, 2, 2, 0, PERSON_BLOCK_YOB}},
        {"no salt, family-bigram block", {0, 0, 20, 30, 30, 2, 2, 0, PERSON_BLOCK_FAMILY}},
    };
    for (size_t a = 0; a < N(ALT); a++) {
        if (encode_all(&s, &ALT[a].p, key)) return 1;
        double best = -1, bp = 0, br = 0; size_t bk = 0;
        result rr[N(TH)];
        for (size_t k = 0; k < N(TH); k++) {
            if (link_at(&s, TH[k], &rr[k]) != SP_OK) return 1;
            double P = (double)rr[k].tp / (double)(rr[k].tp + rr[k].fp ? rr[k].tp + rr[k].fp : 1);
            double R = (double)rr[k].tp / (double)s.ntrue;
            double F = P + R > 0 ? 2 * P * R / (P + R) : 0;
            if (F > best) { best = F; bp = P; br = R; bk = k; }
        }
        printf("| %s | %.4f | %.2f | %.4f | %.4f | %.3f | %.3f | %.3f | %.3f |\n", ALT[a].name, best,
               (double)TH[bk], bp, br,
               (double)rr[bk].tp_by[E_ORDER] / (double)(s.true_by[E_ORDER] ? s.true_by[E_ORDER] : 1),
               (double)rr[bk].tp_by[E_SWAP_DM] / (double)(s.true_by[E_SWAP_DM] ? s.true_by[E_SWAP_DM] : 1),
               (double)rr[bk].tp_by[E_ONE_FIELD] / (double)(s.true_by[E_ONE_FIELD] ? s.true_by[E_ONE_FIELD] : 1),
               (double)rr[bk].tp_by[E_DOB_MISSING] / (double)(s.true_by[E_DOB_MISSING] ? s.true_by[E_DOB_MISSING] : 1));
    }
    sodium_memzero(key, sizeof key);
    free(s.r); free(s.bits); free(s.pc); free(s.block);
    return 0;
}
