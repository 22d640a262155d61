/**
 * Bank and wallet codes the gateway accepts as a payout's `extra.bankCode`, per
 * country. Codes are the short names merchants already send to Southeast Asian
 * PSPs; Mexico uses the 3-digit SPEI participant code that starts a CLABE.
 * India addresses branches by IFSC and Brazil pays PIX keys, so neither has a
 * table here. Matching is case-insensitive and honours aliases (TMB → TTB).
 */

export type Country = 'MX' | 'BR' | 'IN' | 'ID' | 'TH' | 'PH' | 'PK' | 'BD';

/** `wallet` codes take a mobile number as accountNo; `bank` codes an account number. */
export type BankKind = 'bank' | 'wallet';

export interface BankDef {
  code: string;
  name: string;
  kind: BankKind;
  aliases?: readonly string[];
}

const b = (code: string, name: string, aliases?: readonly string[]): BankDef =>
  aliases ? { code, name, kind: 'bank', aliases } : { code, name, kind: 'bank' };
const w = (code: string, name: string, aliases?: readonly string[]): BankDef =>
  aliases ? { code, name, kind: 'wallet', aliases } : { code, name, kind: 'wallet' };

// Banks also answer to their 3-digit Bank Indonesia code (BCA is 014), which merchants send as often as the name.
const ID: readonly BankDef[] = [
  b('BCA', 'Bank Central Asia', ['014']),
  b('BNI', 'Bank Negara Indonesia', ['009']),
  b('BRI', 'Bank Rakyat Indonesia', ['002']),
  b('MANDIRI', 'Bank Mandiri', ['008']),
  b('PERMATA', 'Bank Permata', ['013']),
  b('CIMB', 'CIMB Niaga', ['022']),
  b('BSI', 'Bank Syariah Indonesia', ['451']),
  b('DANAMON', 'Bank Danamon', ['011']),
  b('BTN', 'Bank Tabungan Negara', ['200']),
  b('MAYBANK', 'Maybank Indonesia', ['016']),
  b('PANIN', 'Panin Bank', ['019']),
  b('OCBC', 'OCBC NISP', ['028']),
  b('MEGA', 'Bank Mega', ['426']),
  b('BUKOPIN', 'KB Bukopin', ['441']),
  b('SINARMAS', 'Bank Sinarmas', ['153']),
  b('BTPN', 'Bank BTPN (Jenius)', ['JENIUS', '213']),
  b('BJB', 'Bank BJB', ['110']),
  b('DKI', 'Bank DKI', ['111']),
  b('MUAMALAT', 'Bank Muamalat', ['147']),
  b('JAGO', 'Bank Jago', ['542']),
  b('SEABANK', 'SeaBank Indonesia', ['535']),
  b('UOB', 'UOB Indonesia', ['023']),
  b('DBS', 'DBS Indonesia', ['046']),
  b('HSBC', 'HSBC Indonesia', ['087']),
  b('CITIBANK', 'Citibank Indonesia', ['031']),
  b('NOBU', 'Nobu Bank', ['503']),
  w('DANA', 'DANA'),
  w('OVO', 'OVO'),
  w('GOPAY', 'GoPay'),
  w('SHOPEEPAY', 'ShopeePay'),
  w('LINKAJA', 'LinkAja'),
];

const TH: readonly BankDef[] = [
  b('BBL', 'Bangkok Bank'),
  b('KBANK', 'Kasikornbank'),
  b('SCB', 'Siam Commercial Bank'),
  b('KTB', 'Krungthai Bank'),
  b('TTB', 'TMBThanachart Bank', ['TMB', 'TBANK']),
  b('BAY', 'Bank of Ayudhya (Krungsri)'),
  b('GSB', 'Government Savings Bank'),
  b('BAAC', 'Bank for Agriculture and Agricultural Cooperatives'),
  b('GHB', 'Government Housing Bank'),
  b('CIMBT', 'CIMB Thai'),
  b('UOBT', 'UOB Thailand'),
  b('KKP', 'Kiatnakin Phatra Bank'),
  b('TISCO', 'TISCO Bank'),
  b('LHB', 'Land and Houses Bank'),
  b('ICBCT', 'ICBC (Thai)'),
  b('TCRB', 'Thai Credit Bank'),
  b('IBANK', 'Islamic Bank of Thailand'),
  w('PROMPTPAY', 'PromptPay (mobile or national ID)'),
  w('TRUEMONEY', 'TrueMoney Wallet'),
];

const PH: readonly BankDef[] = [
  b('BDO', 'BDO Unibank'),
  b('BPI', 'Bank of the Philippine Islands'),
  b('MBTC', 'Metrobank', ['METROBANK']),
  b('UBP', 'UnionBank of the Philippines', ['UNIONBANK']),
  b('LBP', 'Land Bank of the Philippines', ['LANDBANK']),
  b('PNB', 'Philippine National Bank'),
  b('SECB', 'Security Bank'),
  b('RCBC', 'Rizal Commercial Banking Corporation'),
  b('CBC', 'China Banking Corporation', ['CHINABANK']),
  b('EWB', 'EastWest Bank'),
  b('DBP', 'Development Bank of the Philippines'),
  b('PSB', 'Philippine Savings Bank'),
  b('AUB', 'Asia United Bank'),
  b('RBB', 'Robinsons Bank'),
  b('CTBC', 'CTBC Bank Philippines'),
  b('CIMBPH', 'CIMB Bank Philippines'),
  b('GOTYME', 'GoTyme Bank'),
  b('TONIK', 'Tonik Digital Bank'),
  b('SEABANKPH', 'SeaBank Philippines'),
  w('GCASH', 'GCash'),
  w('PAYMAYA', 'Maya (PayMaya)', ['MAYA']),
  w('GRABPAY', 'GrabPay'),
  w('SHOPEEPAYPH', 'ShopeePay Philippines'),
  w('COINSPH', 'Coins.ph'),
];

const MX: readonly BankDef[] = [
  b('002', 'BANAMEX'),
  b('006', 'BANCOMEXT'),
  b('009', 'BANOBRAS'),
  b('012', 'BBVA MEXICO', ['BBVA', 'BANCOMER']),
  b('014', 'SANTANDER'),
  b('019', 'BANJERCITO'),
  b('021', 'HSBC'),
  b('030', 'BAJIO'),
  b('036', 'INBURSA'),
  b('042', 'MIFEL'),
  b('044', 'SCOTIABANK'),
  b('058', 'BANREGIO'),
  b('059', 'INVEX'),
  b('060', 'BANSI'),
  b('062', 'AFIRME'),
  b('072', 'BANORTE'),
  b('106', 'BANK OF AMERICA'),
  b('108', 'MUFG'),
  b('110', 'JP MORGAN'),
  b('112', 'BMONEX'),
  b('113', 'VE POR MAS'),
  b('127', 'AZTECA'),
  b('128', 'AUTOFIN'),
  b('129', 'BARCLAYS'),
  b('130', 'COMPARTAMOS'),
  b('132', 'MULTIVA BANCO'),
  b('133', 'ACTINVER'),
  b('135', 'NAFIN'),
  b('136', 'INTERCAM BANCO'),
  b('137', 'BANCOPPEL'),
  b('138', 'ABC CAPITAL'),
  b('140', 'CONSUBANCO'),
  b('141', 'VOLKSWAGEN'),
  b('143', 'CIBANCO'),
  b('145', 'BBASE'),
  b('147', 'BANKAOOL'),
  b('148', 'PAGATODO'),
  b('150', 'INMOBILIARIO'),
  b('151', 'DONDE'),
  b('152', 'BANCREA'),
  b('155', 'ICBC'),
  b('156', 'SABADELL'),
  b('157', 'SHINHAN'),
  b('158', 'MIZUHO BANK'),
  b('166', 'BANCO DEL BIENESTAR', ['BANSEFI']),
  b('168', 'HIPOTECARIA FEDERAL'),
  b('600', 'MONEXCB'),
  b('601', 'GBM'),
  b('606', 'ESTRUCTURADORES'),
  b('608', 'VECTOR'),
  b('616', 'FINAMEX'),
  b('617', 'VALMEX'),
  b('620', 'PROFUTURO'),
  b('630', 'INTERCAM CB'),
  b('631', 'CI BOLSA'),
  b('634', 'FINCOMUN'),
  b('638', 'NU MEXICO'),
  b('646', 'STP'),
  b('652', 'CREDICAPITAL'),
  b('653', 'KUSPIT'),
  b('656', 'UNAGRA'),
  b('659', 'ASP INTEGRA OPC'),
  b('670', 'LIBERTAD'),
  b('677', 'CAJA POP MEXICA'),
  b('680', 'CRISTOBAL COLON'),
  b('683', 'CAJA TELEFONIST'),
  b('684', 'TRANSFER'),
  b('685', 'FONDO FIRA'),
  b('686', 'INVERCAP'),
  b('689', 'FOMPED'),
  b('699', 'FONDEADORA'),
  b('703', 'TESORED'),
  b('706', 'ARCUS'),
  b('710', 'NVIO'),
  b('722', 'MERCADO PAGO W', ['MERCADOPAGO']),
  b('723', 'CUENCA'),
  b('728', 'SPIN BY OXXO'),
  b('902', 'INDEVAL'),
];

const PK: readonly BankDef[] = [
  b('HBL', 'Habib Bank Limited'),
  b('UBL', 'United Bank Limited'),
  b('MCB', 'MCB Bank'),
  b('ABL', 'Allied Bank'),
  b('MEEZAN', 'Meezan Bank'),
  b('NBP', 'National Bank of Pakistan'),
  b('BAFL', 'Bank Alfalah', ['ALFALAH']),
  b('BAHL', 'Bank Al Habib'),
  b('ASKARI', 'Askari Bank'),
  b('FAYSAL', 'Faysal Bank'),
  b('JSBL', 'JS Bank'),
  b('SCBPL', 'Standard Chartered Pakistan'),
  b('SONERI', 'Soneri Bank'),
  b('HMB', 'Habib Metropolitan Bank'),
  b('BOP', 'The Bank of Punjab'),
  b('DIBPL', 'Dubai Islamic Bank Pakistan'),
  b('BIPL', 'BankIslami Pakistan'),
  b('SILK', 'Silkbank'),
  w('JAZZCASH', 'JazzCash'),
  w('EASYPAISA', 'Easypaisa'),
  w('SADAPAY', 'SadaPay'),
  w('NAYAPAY', 'NayaPay'),
  w('UPAISA', 'UPaisa'),
];

const BD: readonly BankDef[] = [
  b('DBBL', 'Dutch-Bangla Bank'),
  b('BRAC', 'BRAC Bank'),
  b('CITY', 'The City Bank'),
  b('EBL', 'Eastern Bank'),
  b('IBBL', 'Islami Bank Bangladesh'),
  b('SONALI', 'Sonali Bank'),
  b('JANATA', 'Janata Bank'),
  b('AGRANI', 'Agrani Bank'),
  b('RUPALI', 'Rupali Bank'),
  b('PUBALI', 'Pubali Bank'),
  b('UCB', 'United Commercial Bank'),
  b('IFIC', 'IFIC Bank'),
  b('PRIME', 'Prime Bank'),
  b('MTB', 'Mutual Trust Bank'),
  b('DHAKA', 'Dhaka Bank'),
  b('BANKASIA', 'Bank Asia'),
  b('SCB', 'Standard Chartered Bangladesh'),
  w('BKASH', 'bKash'),
  w('NAGAD', 'Nagad'),
  w('ROCKET', 'Rocket (DBBL Mobile Banking)'),
  w('UPAY', 'upay'),
];

export const BANKS: Readonly<Record<Country, readonly BankDef[]>> = { ID, TH, PH, MX, PK, BD, IN: [], BR: [] };

/**
 * The bank or wallet a code, alias or name denotes, case-insensitively (Mexican
 * merchants send "BANAMEX" as often as "002").
 */
export function findBank(country: Country, code: string): BankDef | undefined {
  const spaced = code.trim().replace(/\s+/g, ' ');
  // Codes, aliases and names are ASCII: upper-casing "ı" or "ſ" must not make them match.
  if (spaced === '' || !/^[\x20-\x7e]+$/.test(spaced)) return undefined;
  const wanted = spaced.toUpperCase();
  return BANKS[country].find(
    (d) => d.code === wanted || (d.aliases?.includes(wanted) ?? false) || d.name.toUpperCase() === wanted,
  );
}

export function isValidBankCode(country: Country, code: string): boolean {
  return findBank(country, code) !== undefined;
}

export function bankKind(country: Country, code: string): BankKind | undefined {
  return findBank(country, code)?.kind;
}

export function banksOf(country: Country, kind?: BankKind): readonly BankDef[] {
  return kind ? BANKS[country].filter((d) => d.kind === kind) : BANKS[country];
}

/** Indian Financial System Code: 4 letters (bank), 0, 6 alphanumerics (branch). */
export function isValidIfsc(code: string): boolean {
  return /^[A-Z]{4}0[A-Z0-9]{6}$/.test(code);
}
